"""Build, tag and push the container images through the docker Python SDK.

The SDK talks to Docker, or to podman's Docker-compatible API service
(``podman system service``), wherever ``DOCKER_HOST`` points; nothing here shells out.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from .. import __version__
from ..errors import DeployError
from ..project import HARDWARE, IMAGE_NAME

Flavor = Literal["cuda", "cpu", "onnx"]

#: Image repository from the answers (registry + project slug); the tag is the version.
DEFAULT_REPOSITORY = IMAGE_NAME
#: The image this project deploys: CUDA for a GPU answer, else the CPU image.
DEFAULT_FLAVOR: Flavor = "cuda" if HARDWARE.is_gpu else "cpu"
DOCKERFILES: dict[Flavor, str] = {
    "cuda": "docker/Dockerfile",
    "cpu": "docker/Dockerfile.cpu",
    "onnx": "docker/Dockerfile.onnx",
}

Progress = Callable[[str], None]


class ImageError(DeployError):
    """A build, push or engine problem, with what to do about it."""


@dataclass(frozen=True)
class BuildSpec:
    """What to build: pure data, so the CLI and tests can inspect it before anything runs."""

    context: Path
    flavor: Flavor = DEFAULT_FLAVOR
    repository: str = DEFAULT_REPOSITORY
    tag: str = __version__
    build_args: Mapping[str, str] = field(default_factory=dict)
    platform: str | None = None
    network_mode: str | None = None
    no_cache: bool = False

    @property
    def dockerfile(self) -> str:
        return DOCKERFILES[self.flavor]

    @property
    def reference(self) -> str:
        """``repository:tag``; images other than the default flavor get a ``-flavor`` suffix."""
        suffix = "" if self.flavor == DEFAULT_FLAVOR else f"-{self.flavor}"
        return f"{self.repository}:{self.tag}{suffix}"

    def all_build_args(self) -> dict[str, str]:
        return {"VERSION": __version__, **self.build_args}


def check_spec(spec: BuildSpec) -> None:
    """Refuse a build that cannot work, before the engine is asked."""
    dockerfile = spec.context / spec.dockerfile
    if not dockerfile.is_file():
        hint = (
            "this project was generated for a CPU; use --flavor cpu"
            if spec.flavor == "cuda"
            else "regenerate with runtime=onnxruntime or the edge target"
            if spec.flavor == "onnx"
            else "run the command from the project root or pass --context"
        )
        raise ImageError(f"{dockerfile} does not exist: {hint}")
    onnx_dir = spec.build_args.get("ONNX_CONTEXT_DIR", "artifacts/onnx")
    graph = f"{onnx_dir}/{spec.build_args.get('ONNX_MODEL_FILE', 'model.onnx')}"
    if spec.flavor == "onnx" and not (spec.context / graph).is_file():
        raise ImageError(
            f"{graph} is missing: run `export-onnx` first (the ONNX image bakes the "
            "exported graph and the tokenizer and metadata files beside it)"
        )
    if not re.fullmatch(r"[a-z0-9]+([._/:-][a-z0-9]+)*", spec.repository):
        raise ImageError(
            f"{spec.repository!r} is not a valid image repository: lower-case letters, digits, "
            "'.', '-', '_' and '/', e.g. ghcr.io/acme/my-service"
        )


def client(timeout_s: int = 600) -> Any:
    """A docker SDK client for DOCKER_HOST (Docker, or podman's API service)."""
    try:
        # docker.client, not docker: the project's own docker/ folder would shadow it for mypy
        from docker.client import DockerClient
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise ImageError("the docker SDK is missing: pip install -e '.[docker]'") from exc
    try:
        engine = DockerClient.from_env(timeout=timeout_s)
        engine.ping()
    except Exception as exc:
        raise ImageError(
            f"no container engine answers ({exc}). Start Docker, or podman's API service "
            "(`podman system service --time=0 unix:///tmp/podman.sock`) and export "
            "DOCKER_HOST=unix:///tmp/podman.sock"
        ) from exc
    return engine


def _consume(stream: Iterable[dict[str, Any]], progress: Progress | None) -> dict[str, Any]:
    """Read a build/push stream; raise on an error chunk; return the last ``aux`` payload."""
    aux: dict[str, Any] = {}
    for chunk in stream:
        if "error" in chunk:
            detail = chunk.get("errorDetail", {}).get("message") or chunk["error"]
            raise ImageError(str(detail).strip())
        if "aux" in chunk and isinstance(chunk["aux"], dict):
            aux = chunk["aux"]
        text = chunk.get("stream") or chunk.get("status")
        if progress and text and str(text).strip():
            progress(str(text).rstrip())
    return aux


@dataclass(frozen=True)
class BuildResult:
    reference: str
    image_id: str
    size_bytes: int
    seconds: float


def build_image(
    spec: BuildSpec, progress: Progress | None = None, engine: Any = None
) -> BuildResult:
    """Build ``spec`` and tag it ``spec.reference``; the progress callback gets the log lines."""
    check_spec(spec)
    engine = engine or client()
    started = time.monotonic()
    with engine_errors(f"building {spec.reference}"):
        return _build(spec, engine, progress, started)


def _build(spec: BuildSpec, engine: Any, progress: Progress | None, started: float) -> BuildResult:
    stream = engine.api.build(
        path=str(spec.context),
        dockerfile=spec.dockerfile,
        tag=spec.reference,
        buildargs=spec.all_build_args(),
        platform=spec.platform,
        network_mode=spec.network_mode,
        nocache=spec.no_cache,
        rm=True,
        forcerm=True,
        decode=True,
    )
    _consume(stream, progress)
    image = engine.images.get(spec.reference)
    return BuildResult(
        reference=spec.reference,
        image_id=str(image.id),
        size_bytes=int(image.attrs.get("Size") or 0),
        seconds=time.monotonic() - started,
    )


@dataclass(frozen=True)
class PushResult:
    """What a push left in the registry: ``repository@sha256:...`` is what every target deploys."""

    reference: str
    digest: str
    size_bytes: int

    def as_dict(self) -> dict[str, object]:
        return {"reference": self.reference, "digest": self.digest, "size": self.size_bytes}


@contextmanager
def engine_errors(action: str) -> Iterator[None]:
    """Turn the docker SDK's errors (missing image, API refusal, no engine) into one message."""
    import requests

    try:
        from docker.errors import DockerException, ImageNotFound, NotFound
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise ImageError("the docker SDK is missing: pip install -e '.[docker]'") from exc
    try:
        yield
    except (ImageNotFound, NotFound) as exc:
        raise ImageError(
            f"{action}: {_explanation(exc)} (build it first with `images build`, or pass the "
            "tag it was built with)"
        ) from None
    except requests.exceptions.ConnectionError as exc:
        raise ImageError(
            f"{action}: the container engine stopped answering ({exc}); start Docker or "
            "podman's API service and check DOCKER_HOST"
        ) from None
    except DockerException as exc:  # APIError and the rest
        raise ImageError(f"{action}: {_explanation(exc)}") from None


def _explanation(exc: BaseException) -> str:
    explanation = getattr(exc, "explanation", None)
    return str(explanation or exc).strip()


def push_image(
    repository: str,
    tag: str,
    auth_config: dict[str, str] | None = None,
    progress: Progress | None = None,
    engine: Any = None,
) -> PushResult:
    """Push ``repository:tag`` (already built or tagged); the result names its digest.

    ``auth_config`` is the SDK's ``{"username": ..., "password": ...}`` (e.g. from ECR's
    ``get_authorization_token``); without it the engine's stored login is used.
    """
    engine = engine or client()
    with engine_errors(f"pushing {repository}:{tag}"):
        stream = engine.images.push(
            repository, tag=tag, auth_config=auth_config, stream=True, decode=True
        )
        aux = _consume(stream, progress)
        digest = str(aux.get("Digest") or "")
        size = int(aux.get("Size") or 0)
        if not digest:  # older engines: the digest is in the image's RepoDigests after a push
            repo_digests = engine.images.get(f"{repository}:{tag}").attrs.get("RepoDigests") or []
            found = [d for d in repo_digests if d.startswith(f"{repository}@")]
            digest = found[0].partition("@")[2] if found else ""
    if not digest:
        raise ImageError(
            f"the registry accepted {repository}:{tag} but reported no digest; deploy by digest "
            "needs one: push again, or pass --image-uri REPOSITORY@sha256:..."
        )
    return PushResult(reference=f"{repository}@{digest}", digest=digest, size_bytes=size)


def tag_image(source: str, repository: str, tag: str, engine: Any = None) -> None:
    """Tag a local image as ``repository:tag`` (to push a build to another registry)."""
    engine = engine or client()
    with engine_errors(f"tagging {source} as {repository}:{tag}"):
        if not engine.images.get(source).tag(repository, tag=tag):
            raise ImageError(f"could not tag {source} as {repository}:{tag}")


def publish(
    repository: str,
    tag: str,
    *,
    source: str | None = None,
    auth_config: dict[str, str] | None = None,
    progress: Progress | None = None,
    engine: Any = None,
) -> PushResult:
    """Tag the local build (``source``, default ``DEFAULT_REPOSITORY:tag``) as
    ``repository:tag`` when the names differ, then push it; the one digest every target deploys.
    """
    engine = engine or client()
    source = source or f"{DEFAULT_REPOSITORY}:{tag}"
    if source != f"{repository}:{tag}":
        tag_image(source, repository, tag, engine=engine)
    return push_image(repository, tag, auth_config, progress=progress, engine=engine)
