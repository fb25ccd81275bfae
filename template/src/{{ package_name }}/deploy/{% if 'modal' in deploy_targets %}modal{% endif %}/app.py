"""The service on Modal: the same HTTP API, engine and settings as everywhere else.

``deploy modal`` (or ``modal deploy -m <package>.deploy.modal.app``) deploys it;
``modal run -m <package>.deploy.modal.app`` runs the local entrypoint, which checks
``/health`` and sends one request. What a careful deploy needs, each from one place:

- readiness: ``@modal.enter`` loads the model on every GPU and runs a warm-up batch before
  it returns (serving.py), so a container takes traffic only when it can answer;
- batching: ``@modal.concurrent`` lets one container take ``TARGET_INPUTS`` inputs at once
  (the batch size times the GPUs), so the engine forms full batches instead of Modal
  starting one GPU container per request; ``MAX_CONTAINERS`` caps the bill;
- auth: the project's bearer token from the Modal Secret ``TOKEN_SECRET_NAME`` when auth is
  on; Modal's proxy auth (``Modal-Key``/``Modal-Secret`` headers) with
  ``<PREFIX>MODAL_PROXY_AUTH=true``;
- weights: baked into the image with ``weights_strategy=bake``, else in a Volume, downloaded
  once under a lease (weights.py); gated models read ``HF_TOKEN`` from the Secret named by
  ``<PREFIX>MODAL_HF_SECRET``;
- image: Modal builds one from pyproject.toml, or, with ``<PREFIX>MODAL_IMAGE`` (``deploy
  modal --image-uri``), runs the digest ``images push`` pushed, the one the other targets run.
"""

# No ``from __future__ import annotations``: Modal reads the class parameters' real types.
from pathlib import Path, PurePosixPath
from typing import Any

import modal

from ...errors import DeployError
from ...project import (
    HARDWARE,
    MAX_REPLICAS,
    MIN_REPLICAS,
    PROJECT_SLUG,
    TORCH_INDEX_URL,
    TORCH_VERSION,
    WEIGHTS_STRATEGY,
)
from ...settings import ENV_PREFIX, Settings
from ..common import settings_env

APP_NAME = PROJECT_SLUG
PACKAGE = __package__.rsplit(".", 1)[0] if __package__ else "app"
#: Modal's ``gpu=`` string from the hardware catalog; None runs on CPU
GPU: str | None = HARDWARE.modal_gpu or None
GPUS = max(1, HARDWARE.gpu_count)
#: idle seconds before a container is stopped (and billing stops)
SCALEDOWN_WINDOW_S = 300
#: longest a single request may run
TIMEOUT_S = 600
#: longest a cold start may take (image pull, weights download on first start, warm-up)
STARTUP_TIMEOUT_S = 1200
PYTHON_VERSION = "3.11"
#: the deploy-time settings (env and .env); the token check is the container's business
_SETTINGS = Settings(require_auth=False, api_token=None)
#: containers kept warm (billed while idle) and the most Modal may start (from the answers)
MIN_CONTAINERS = MIN_REPLICAS
MAX_CONTAINERS = max(MAX_REPLICAS, MIN_REPLICAS, 1)
#: inputs one container takes at once: enough to fill a batch on every GPU, then twice that
TARGET_INPUTS = _SETTINGS.max_batch_size * GPUS
MAX_INPUTS = max(TARGET_INPUTS, min(2 * TARGET_INPUTS, _SETTINGS.max_queue_items))
#: the bearer token for the public URL comes from this Modal Secret when auth is on
TOKEN_SECRET_NAME = f"{PROJECT_SLUG}-api-token"
AUTH_REQUIRED = bool(Settings.model_fields["require_auth"].default)
PROXY_AUTH = _SETTINGS.modal_proxy_auth
#: a Modal Secret holding HF_TOKEN, for gated or private models (None: no secret)
HF_SECRET_NAME = _SETTINGS.modal_hf_secret
BAKED = WEIGHTS_STRATEGY == "bake"
#: the pushed image to run (None: Modal builds one) and the Secret to pull it with
IMAGE_URI = _SETTINGS.modal_image
REGISTRY_SECRET = _SETTINGS.modal_registry_secret
#: where the project's Dockerfile bakes the weights (``images build``)
DOCKERFILE_MODEL_DIR = "/opt/model"
WEIGHTS_DIR = "/model" if BAKED else "/weights"
VOLUME_NAME = f"{PROJECT_SLUG}-weights"
LEASES_NAME = f"{PROJECT_SLUG}-weights-lease"
REVISION = _SETTINGS.model_revision
#: the weights' place: in the image, or in the volume, one directory per pinned revision
MODEL_DIR = DOCKERFILE_MODEL_DIR if IMAGE_URI and BAKED else f"{WEIGHTS_DIR}/{REVISION or 'local'}"
PYPROJECT = Path(__file__).resolve().parents[4] / "pyproject.toml"
hf_secrets = [modal.Secret.from_name(HF_SECRET_NAME)] if HF_SECRET_NAME else []
secrets = [modal.Secret.from_name(TOKEN_SECRET_NAME)] if AUTH_REQUIRED else []


def download(target: Path) -> None:
    """The pinned revision from the Hub into ``target`` (HF_TOKEN from the secret, if any)."""
    if REVISION is None:
        raise FileNotFoundError(
            f"{_SETTINGS.model_id} is a local model: upload it once with "
            f"`modal volume put {VOLUME_NAME} {_SETTINGS.model_id} /{target.name}`"
        )
    from huggingface_hub import snapshot_download

    snapshot_download(_SETTINGS.model_id, revision=REVISION, local_dir=target)


def _bake_weights() -> None:  # runs once, in the image build
    download(Path(MODEL_DIR))


env = settings_env(
    {
        "host": "0.0.0.0",
        "device": HARDWARE.device,
        "model_dir": MODEL_DIR,
        # the container imports this module too: it must see the same answers
        "modal_proxy_auth": PROXY_AUTH,
        **({"modal_hf_secret": HF_SECRET_NAME} if HF_SECRET_NAME else {}),
        **({"modal_image": IMAGE_URI} if IMAGE_URI else {}),
        **({"modal_registry_secret": REGISTRY_SECRET} if REGISTRY_SECRET else {}),
    }
)


def registry_image(uri: str, secret_name: str | None) -> modal.Image:
    """The pushed image, by digest, as it is: its ENTRYPOINT (``serve``) is cleared so that
    Modal starts its own runtime in it; the package and, when baked, the weights are inside."""
    secret = modal.Secret.from_name(secret_name) if secret_name else None
    if ".dkr.ecr." in uri or "-docker.pkg.dev/" in uri:
        if secret is None:
            raise DeployError(
                f"{uri} is in a private registry: create a Modal Secret with its credentials "
                "(AWS keys for ECR, SERVICE_ACCOUNT_JSON for Artifact Registry) and set "
                f"{ENV_PREFIX}MODAL_REGISTRY_SECRET to its name"
            )
        if ".dkr.ecr." in uri:
            return modal.Image.from_aws_ecr(uri, secret=secret).entrypoint([])
        return modal.Image.from_gcp_artifact_registry(uri, secret=secret).entrypoint([])
    return modal.Image.from_registry(uri, secret=secret).entrypoint([])


if IMAGE_URI:
    image = registry_image(IMAGE_URI, REGISTRY_SECRET).env(env)
else:
    image = (
        modal.Image.debian_slim(python_version=PYTHON_VERSION)
        .pip_install(f"torch=={TORCH_VERSION}", index_url=TORCH_INDEX_URL)
        .pip_install_from_pyproject(str(PYPROJECT))
        .env(env)
    )
    if BAKED and REVISION is None:  # a local model: copied into the image
        image = image.add_local_dir(_SETTINGS.model_id, MODEL_DIR, copy=True)
    elif BAKED:
        image = image.run_function(_bake_weights, secrets=hf_secrets)
    image = image.add_local_python_source(PACKAGE)
app = modal.App(APP_NAME, image=image)
weights_volume = None if BAKED else modal.Volume.from_name(VOLUME_NAME, create_if_missing=True)
volumes: dict[str | PurePosixPath, Any] = {}
if weights_volume is not None:
    volumes[WEIGHTS_DIR] = weights_volume


def ensure_volume_weights(target: Path) -> str:
    """The lease-and-commit protocol of weights.py, with the real Modal Dict and Volume."""
    from .weights import ensure_weights

    if weights_volume is None or (REVISION is None and (target / "config.json").is_file()):
        return "present"
    leases = modal.Dict.from_name(LEASES_NAME, create_if_missing=True)
    return ensure_weights(
        target, download, leases=leases, volume=weights_volume, timeout_s=STARTUP_TIMEOUT_S
    )


@app.cls(
    gpu=GPU,
    volumes=volumes,
    secrets=secrets + hf_secrets,
    min_containers=MIN_CONTAINERS,
    max_containers=MAX_CONTAINERS,
    scaledown_window=SCALEDOWN_WINDOW_S,
    timeout=TIMEOUT_S,
    startup_timeout=STARTUP_TIMEOUT_S,
)
@modal.concurrent(max_inputs=MAX_INPUTS, target_inputs=TARGET_INPUTS)
class Service:
    #: local runs and tests: load from this directory and device instead of the volume's
    model_dir: str = modal.parameter(default="")
    device: str = modal.parameter(default="")

    @modal.enter()
    def start(self) -> None:
        """Weights in place, model on every GPU, warm-up done: only then does traffic come."""
        from .serving import StartedServer

        overrides: dict[str, Any] = {}
        if self.model_dir:
            overrides["model_dir"] = Path(self.model_dir)
        else:
            ensure_volume_weights(Path(MODEL_DIR))
        if self.device:
            overrides["device"] = self.device
        self.server = StartedServer(Settings(**overrides))
        self.server.start(timeout_s=STARTUP_TIMEOUT_S)

    @modal.exit()
    def stop(self) -> None:
        self.server.stop()

    @modal.method()
    async def predict(self, texts: list[str]) -> list[Any]:
        """Run the model on ``texts``, batched with every other caller's
        (for Python callers: ``Service().predict.remote([...])``)."""
        return await self.server.predict(texts)

    @modal.asgi_app(requires_proxy_auth=PROXY_AUTH)
    def web(self) -> Any:
        """The HTTP API (health, readiness, predict) at the app's URL, already warm."""
        return self.server


@app.local_entrypoint()
def smoke() -> None:
    """Check /health, then send one request to the deployed web endpoint."""
    from .check import check_web_endpoint

    print(check_web_endpoint(Service().web.get_web_url() or "", timeout_s=STARTUP_TIMEOUT_S))
