"""The service on Modal: the same image contents, HTTP API and settings as everywhere else.

``deploy modal`` (or ``modal deploy -m <package>.deploy.modal.app``) deploys it;
``modal run -m <package>.deploy.modal.app`` runs the local entrypoint, which checks
``/health`` and sends one request. The GPU comes from project.py; the weights live in a
Modal Volume under their pinned revision, downloaded once by the first container.
"""

# No ``from __future__ import annotations``: Modal reads the class parameters' real types.
from pathlib import Path
from typing import Any

import modal

from ...project import HARDWARE, PROJECT_SLUG, TORCH_INDEX_URL, TORCH_VERSION
from ...settings import Settings
from ..common import settings_env

APP_NAME = PROJECT_SLUG
PACKAGE = __package__.rsplit(".", 1)[0] if __package__ else "app"
#: Modal's ``gpu=`` string from the hardware catalog; None runs on CPU
GPU: str | None = HARDWARE.modal_gpu or None
#: idle seconds before a container is stopped (and billing stops)
SCALEDOWN_WINDOW_S = 300
#: longest a single request may run
TIMEOUT_S = 600
#: longest a cold start may take (image pull, weights download on first start, warm-up)
STARTUP_TIMEOUT_S = 1200
PYTHON_VERSION = "3.11"
WEIGHTS_DIR = "/weights"
VOLUME_NAME = f"{PROJECT_SLUG}-weights"
#: the bearer token for the public URL comes from this Modal Secret when auth is on
TOKEN_SECRET_NAME = f"{PROJECT_SLUG}-api-token"
AUTH_REQUIRED = bool(Settings.model_fields["require_auth"].default)
_DEFAULTS = Settings.model_construct()
#: the weights' place in the volume: one directory per pinned revision
MODEL_DIR = f"{WEIGHTS_DIR}/{_DEFAULTS.model_revision or 'local'}"
PYPROJECT = Path(__file__).resolve().parents[4] / "pyproject.toml"

weights_volume = modal.Volume.from_name(VOLUME_NAME, create_if_missing=True)
image = (
    modal.Image.debian_slim(python_version=PYTHON_VERSION)
    .pip_install(f"torch=={TORCH_VERSION}", index_url=TORCH_INDEX_URL)
    .pip_install_from_pyproject(str(PYPROJECT))
    .env(settings_env({"host": "0.0.0.0", "device": HARDWARE.device, "model_dir": MODEL_DIR}))
    .add_local_python_source(PACKAGE)
)
app = modal.App(APP_NAME, image=image)
secrets = [modal.Secret.from_name(TOKEN_SECRET_NAME)] if AUTH_REQUIRED else []


def ensure_weights(settings: Settings) -> None:
    """Download the pinned revision into the volume once; later containers reuse it."""
    target = Path(MODEL_DIR)
    if settings.model_dir != target or (target / "config.json").is_file():
        return
    if settings.model_revision is None:
        raise FileNotFoundError(
            f"{settings.model_id} is a local model: upload it once with "
            f"`modal volume put {VOLUME_NAME} <dir> /{target.name}`"
        )
    from huggingface_hub import snapshot_download

    snapshot_download(settings.model_id, revision=settings.model_revision, local_dir=target)
    weights_volume.commit()


@app.cls(
    gpu=GPU,
    volumes={WEIGHTS_DIR: weights_volume},
    secrets=secrets,
    scaledown_window=SCALEDOWN_WINDOW_S,
    timeout=TIMEOUT_S,
    startup_timeout=STARTUP_TIMEOUT_S,
)
class Service:
    #: local runs and tests: load from this directory and device instead of the volume's
    model_dir: str = modal.parameter(default="")
    device: str = modal.parameter(default="")

    @modal.enter()
    def start(self) -> None:
        overrides: dict[str, Any] = {}
        if self.model_dir:
            overrides["model_dir"] = Path(self.model_dir)
        if self.device:
            overrides["device"] = self.device
        self.settings = Settings(**overrides)
        ensure_weights(self.settings)
        self.predictor: Any = None

    @modal.method()
    def predict(self, texts: list[str]) -> list[Any]:
        """Run the model on a batch (for Python callers: ``Service().predict.remote([...])``)."""
        if self.predictor is None:
            from ...runtime.load import load_predictor

            self.predictor = load_predictor(self.settings)
        self.predictor.check_lengths(texts)
        return list(self.predictor.predict(texts))

    @modal.asgi_app()
    def web(self) -> Any:
        """The HTTP API (health, readiness, predict) at the app's public URL."""
        from ...serve.app import create_app

        return create_app(self.settings)


@app.local_entrypoint()
def smoke() -> None:
    """Check /health, then send one request to the deployed web endpoint."""
    from .check import check_web_endpoint

    print(check_web_endpoint(Service().web.get_web_url() or "", timeout_s=STARTUP_TIMEOUT_S))
