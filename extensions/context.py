"""Jinja extensions that expose the hardware catalog to copier.yml and template files.

``CatalogGlobals`` gives validators the catalog's checks; ``DerivedContext`` adds the facts
derived from the answers (``hw``, image names, env prefix) to every rendered file, so no
template file computes or repeats them.
"""

from __future__ import annotations

import importlib.util
import keyword
import re
import sys
from pathlib import Path
from typing import Any

from copier_template_extensions import ContextHook
from jinja2 import Environment
from jinja2.ext import Extension


def _load_catalog() -> Any:
    """Import catalog.py beside this file (Copier loads extensions by path, not package)."""
    name = "copier_ml_deploy_catalog"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, Path(__file__).with_name("catalog.py"))
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


catalog = _load_catalog()

_HUB_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*/[A-Za-z0-9][A-Za-z0-9._-]*$")
_LOCAL_PATH = re.compile(r"^(/|\./|\.\./|~/)")
_COMMIT = re.compile(r"^[0-9a-f]{40}$")


def is_local_model(model_id: str) -> bool:
    return bool(_LOCAL_PATH.match(model_id or ""))


def model_id_problem(model_id: str) -> str:
    if is_local_model(model_id):
        return ""
    if not _HUB_ID.match(model_id or ""):
        return (
            f"{model_id!r} is neither a Hugging Face Hub id nor a local path. Write it as "
            "'organisation/model' (e.g. sentence-transformers/all-MiniLM-L6-v2) or as a "
            "path starting with /, ./ or ~/."
        )
    return ""


def revision_problem(model_id: str, revision: str) -> str:
    if is_local_model(model_id):
        return ""
    if not revision or revision in {"main", "master", "HEAD"}:
        return (
            "Pin the model to a commit hash (40 hex characters, from the model page's "
            "'Files and versions' history): a branch like 'main' changes under you."
        )
    if not _COMMIT.match(revision):
        return f"{revision!r} is not a commit hash: give the 40-character hex id of the commit."
    return ""


def package_problem(name: str) -> str:
    if not re.match(r"^[a-z][a-z0-9_]*$", name or ""):
        return (
            f"{name!r} is not a valid Python package name: use lower-case letters, digits and "
            "underscores, starting with a letter (e.g. minilm_service)."
        )
    if keyword.iskeyword(name) or name in sys.stdlib_module_names:
        return (
            f"{name!r} would shadow Python's own '{name}'; pick another name (e.g. {name}_service)."
        )
    return ""


def slugify(text: str, sep: str = "-") -> str:
    return re.sub(r"[^a-z0-9]+", sep, (text or "").lower()).strip(sep)


#: Kubernetes names and label values allow 63 characters; the longest suffix the manifests
#: add to the base name is "-batch-input".
K8S_NAME_LIMIT = 63 - len("-batch-input")


def k8s_name(slug: str) -> str:
    """Base name of every Kubernetes object: the slug, cut so that every suffixed name fits."""
    return slug[:K8S_NAME_LIMIT].rstrip("-")


class CatalogGlobals(Extension):
    """Make the catalog and its checks callable from copier.yml and templates."""

    def __init__(self, environment: Environment) -> None:
        super().__init__(environment)
        environment.globals.update(
            accelerators=catalog.ACCELERATORS,
            target_problem=catalog.target_problem,
            model_id_problem=model_id_problem,
            revision_problem=revision_problem,
            package_problem=package_problem,
            is_local_model=is_local_model,
        )
        environment.filters["slugify"] = slugify


#: How long a new pod may take to become ready, by weights strategy: the startup probe's
#: budget. Baked weights load from the image (CUDA init, load, warm-up); mounted ones are read
#: over a network volume; downloaded ones come from the Hub first (gigabytes at start).
PROBE_STARTUP_SECONDS = {"bake": 180, "volume": 300, "download": 900}
#: Seconds the server drains in-flight work after SIGTERM (Settings.drain_timeout_s).
DRAIN_TIMEOUT_S = 25
#: preStop sleep: endpoints stop routing to a terminating pod before it stops accepting work.
PRESTOP_SECONDS = 5
#: Slack between the end of the drain and the SIGKILL at terminationGracePeriodSeconds.
SHUTDOWN_MARGIN_SECONDS = 5


def pod_resources(is_gpu: bool, gpus: int) -> dict[str, str]:
    """Host CPU and memory per replica: a small pod on CPU, a share that grows per GPU.

    Memory request == limit (no overcommit: an OOM kill mid-batch drops requests); the CPU
    limit is twice the request so tokenization bursts are not throttled.
    """
    cpus = 4 * gpus if is_gpu else 2
    memory_gi = 16 * gpus if is_gpu else 4
    return {
        "cpu_request": str(cpus),
        "cpu_limit": str(cpus * 2),
        "memory": f"{memory_gi}Gi",
        "memory_gi": str(memory_gi),
    }


def kueue_quota(is_gpu: bool, gpus: int, answers: dict[str, Any]) -> dict[str, str]:
    """Nominal quota of the project's Kueue ClusterQueue.

    GPUs come from the ``kueue_gpu_quota`` answer; CPU and memory are sized so that every
    replica (and batch Job) the GPU quota admits also fits: slots x one pod's requests.
    On CPU the slots are ``max_replicas`` serving pods plus one batch Job.
    """
    if is_gpu:
        gpu_quota = int(answers.get("kueue_gpu_quota") or gpus)
        slots = max(gpu_quota // gpus, 1)
    else:
        gpu_quota, slots = 0, int(answers.get("max_replicas") or 1) + 1
    pod = pod_resources(is_gpu, gpus)
    return {
        "gpu": str(gpu_quota),
        "cpu": str(slots * int(pod["cpu_request"])),
        "memory": f"{slots * int(pod['memory_gi'])}Gi",
    }


def _model_context_dir(model_id: str) -> str:
    """Build-context directory the image bakes weights from: the local model, else docker/model."""
    if model_id.startswith("./") and ".." not in model_id:
        return model_id[2:].rstrip("/")
    return "docker/model"


def derive(answers: dict[str, Any]) -> dict[str, Any]:
    """Facts computed from the answers; pure so tests can call it directly."""
    acc = catalog.ACCELERATORS[answers["accelerator"]]
    count = int(answers.get("accelerator_count") or 1) if acc.is_gpu else 0
    cuda = acc.cuda
    package = answers["package_name"]
    slug = slugify(answers["project_name"])
    registry = (answers.get("image_registry") or "").rstrip("/")
    weights = answers.get("weights_strategy") or "bake"
    return {
        # Kubernetes probe and shutdown timings (k8s/base/deployment.yaml, Settings).
        "probe_startup_seconds": PROBE_STARTUP_SECONDS[weights],
        "drain_timeout_s": DRAIN_TIMEOUT_S,
        "prestop_seconds": PRESTOP_SECONDS,
        "termination_grace_seconds": PRESTOP_SECONDS + DRAIN_TIMEOUT_S + SHUTDOWN_MARGIN_SECONDS,
        "pod_resources": pod_resources(acc.is_gpu, count),
        "kueue_quota": kueue_quota(acc.is_gpu, count, answers),
        "hw": {
            "key": acc.key,
            "display_name": acc.display_name,
            "is_gpu": acc.is_gpu,
            "gpu_count": count,
            "memory_gb": acc.memory_gb,
            "compute_capability": ".".join(map(str, acc.compute_capability or ())),
            "cuda_version": cuda.label if cuda else "",
            "cuda_image": cuda.image_tag if cuda else "",
            "cuda_devel_image": cuda.devel_image_tag if cuda else "",
            "torch_index": cuda.torch_index if cuda else "cpu",
            "torch_index_url": f"{catalog.TORCH_INDEX_BASE}/{cuda.torch_index if cuda else 'cpu'}",
            "torch_dtype": acc.torch_dtype,
            "min_driver": cuda.min_driver if cuda else "",
            "k8s_gpu_product": acc.k8s_gpu_product or "",
            "kueue_flavor": acc.kueue_flavor,
            "sagemaker_instance": catalog.machine_for("sagemaker", acc.key, count),
            "sagemaker_serverless_possible": acc.sagemaker_serverless,
            "vertex_machine": catalog.machine_for("vertex", acc.key, count),
            "vertex_accelerator": acc.vertex_accelerator or "",
            "modal_gpu": acc.modal_gpu_spec(count) or "",
        },
        "torch_version": catalog.TORCH_VERSION,
        "python_base_image": catalog.PYTHON_BASE_IMAGE,
        "torch_cpu_index_url": f"{catalog.TORCH_INDEX_BASE}/cpu",
        "model_context_dir": _model_context_dir(answers.get("model_id") or ""),
        "project_slug": slug,
        "k8s_name": k8s_name(slug),
        "env_prefix": package.upper() + "_",
        "image_name": f"{registry}/{slug}" if registry else slug,
    }


class DerivedContext(ContextHook):
    """Add ``derive(answers)`` to the context of every rendered file."""

    def hook(self, context: dict[str, Any]) -> None:
        if "accelerator" in context and "package_name" in context and "project_name" in context:
            context.update(derive(context))
