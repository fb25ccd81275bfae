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
        return f"{name!r} would shadow Python's own '{name}'; pick another name (e.g. {name}_service)."
    return ""


def slugify(text: str, sep: str = "-") -> str:
    return re.sub(r"[^a-z0-9]+", sep, (text or "").lower()).strip(sep)


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
    return {
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
        "startup_seconds": catalog.STARTUP_SECONDS[answers.get("weights_strategy") or "bake"],
        "project_slug": slug,
        "env_prefix": package.upper() + "_",
        "image_name": f"{registry}/{slug}" if registry else slug,
    }


class DerivedContext(ContextHook):
    """Add ``derive(answers)`` to the context of every rendered file."""

    def hook(self, context: dict[str, Any]) -> None:
        if "accelerator" in context and "package_name" in context and "project_name" in context:
            context.update(derive(context))
