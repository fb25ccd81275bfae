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
import unicodedata
from pathlib import Path
from typing import Any

from copier_template_extensions import ContextHook
from jinja2 import Environment
from jinja2.ext import Extension


def _load_catalog(file: str = "catalog.py") -> Any:
    """Import a module beside this file (Copier loads extensions by path, not package)."""
    name = f"copier_ml_deploy_{file.removesuffix('.py')}"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, Path(__file__).with_name(file))
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


catalog = _load_catalog()
llm = _load_catalog("llm.py")

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


#: Longest package name: the generated code (imports, docstrings, test ids that name the
#: package) stays within its 100-character lines up to this length (tests/render checks it).
PACKAGE_NAME_LIMIT = 32
#: Import names of what the generated project installs (every extra of every target) and of
#: its own top-level packages: a package of that name would shadow it. tests/render checks
#: this against the rendered pyproject.toml and the installed distributions' import names.
INSTALLED_IMPORTS = frozenset(
    """
    agentplatform anyio boto3 botocore click docker fastapi functorch google httpx
    huggingface_hub jinja2 kmock kubernetes modal modal_docs modal_proto modal_version moto
    mypy mypyc numpy onnx onnx_ir onnxruntime openai openapi_spec_validator optimum orjson
    packaging pre_commit
    pre_commit_hooks prometheus_client py pydantic pydantic_settings pytest pytest_asyncio
    questionary requests rich ruff safetensors sagemaker schemathesis starlette tests
    tokenizers torch torchgen transformers tritonclient tritonclientutils tritongrpcclient
    tritonhttpclient tritonshmutils typer uvicorn vertex_ray vertexai yaml
    """.split()  # noqa: SIM905 - a word list reads better than 60 quoted lines
)


def transliterate(text: str) -> str:
    """ASCII for a name: text-unidecode's transliteration ("Überwachung" -> "Uberwachung").

    Without the library (an older Copier environment) accents are still dropped by Unicode
    decomposition; letters with no decomposition (ß, Cyrillic) are then lost.
    """
    try:
        from text_unidecode import unidecode
    except ImportError:
        decomposed = unicodedata.normalize("NFKD", text or "")
        return decomposed.encode("ascii", "ignore").decode("ascii")
    return str(unidecode(text or ""))


def slugify(text: str, sep: str = "-") -> str:
    return re.sub(r"[^a-z0-9]+", sep, transliterate(text).lower()).strip(sep)


def package_default(project_name: str) -> str:
    """The package name a project name suggests: transliterated, ``_``-separated, not too long.

    Cut at a word boundary to fit PACKAGE_NAME_LIMIT; a name starting with a digit gets a
    ``service_`` prefix; a name that would shadow a package gets ``_service``.
    """
    name = ""
    for word in slugify(project_name, "_").split("_"):
        longer = f"{name}_{word}" if name else word
        if len(longer) > PACKAGE_NAME_LIMIT:
            break
        name = longer
    name = name or slugify(project_name, "_")[:PACKAGE_NAME_LIMIT].rstrip("_")
    if name and not name[0].isalpha():
        name = f"service_{name}"[:PACKAGE_NAME_LIMIT].rstrip("_")
    if name in INSTALLED_IMPORTS or name in sys.stdlib_module_names or keyword.iskeyword(name):
        name = f"{name}_service"
    return name


def package_problem(name: str) -> str:
    if not re.match(r"^[a-z][a-z0-9_]*$", name or ""):
        suggestion = package_default(name or "") or "minilm_service"
        return (
            f"{name!r} is not a valid Python package name: use lower-case letters, digits and "
            f"underscores, starting with a letter (e.g. {suggestion})."
        )
    if keyword.iskeyword(name) or name in sys.stdlib_module_names:
        return (
            f"{name!r} would shadow Python's own '{name}'; pick another name (e.g. {name}_service)."
        )
    if name in INSTALLED_IMPORTS:
        return (
            f"{name!r} would shadow the '{name}' package the generated project installs, and "
            f"break its imports; pick another name (e.g. {name}_service)."
        )
    if len(name) > PACKAGE_NAME_LIMIT:
        return (
            f"{name!r} has {len(name)} characters; keep package_name to {PACKAGE_NAME_LIMIT} "
            f"or fewer so the generated code stays lint-clean (e.g. {package_default(name)})."
        )
    return ""


def accelerator_problem(accelerator: str) -> str:
    if accelerator not in catalog.ACCELERATORS:
        return (
            f"accelerator {accelerator!r} is not in the hardware catalog; choose accelerator "
            f"from: {', '.join(catalog.ACCELERATORS)}."
        )
    return ""


POLICY_FILE = Path(__file__).resolve().parents[1] / "org-policy.yml"


def org_policy() -> dict[str, Any]:
    """The organisation's policy: ``org-policy.yml`` at the template's root, if it has one.

    ``defaults``: answers the organisation presets (the questions' defaults, also for a
    question asked only later, such as gcp_project once vertex is chosen). ``allowed``: for a
    question, the only answers the validators accept. docs/platform-teams.md shows one.
    """
    if not POLICY_FILE.is_file():
        return {"defaults": {}, "allowed": {}}
    import yaml

    policy = yaml.safe_load(POLICY_FILE.read_text(encoding="utf-8")) or {}
    unknown = set(policy) - {"defaults", "allowed"}
    if unknown:
        from copier.errors import UserMessageError  # Copier prints it without a traceback

        raise UserMessageError(
            f"org-policy.yml: unknown section(s) {sorted(unknown)}; "
            "it has two: defaults (preset answers) and allowed (the only answers accepted)"
        )
    return {"defaults": policy.get("defaults") or {}, "allowed": policy.get("allowed") or {}}


def org_default(question: str, fallback: Any) -> Any:
    return org_policy()["defaults"].get(question, fallback)


def policy_problem(question: str, answer: Any) -> str:
    allowed = org_policy()["allowed"].get(question)
    if allowed is None:
        return ""
    given = answer if isinstance(answer, list) else [answer]
    refused = [value for value in given if value not in allowed]
    if not refused:
        return ""
    return (
        f"{question} {', '.join(map(repr, refused))} is not allowed by your organisation's "
        f"policy (org-policy.yml); allowed: {', '.join(map(str, allowed))}."
    )


#: How Copier's messages about a bad --data/--defaults answer start (copier/_user_data.py).
COPIER_ANSWER_ERRORS = ("Validation error for question", "Invalid choice for")


def _validation_excepthook(previous: Any) -> Any:
    """Print Copier's validation errors as one line, without the traceback (non-interactive).

    Copier turns a validator's message into a ValueError that escapes its command line when
    the answer came from --data or --defaults; only that case is shortened.
    """

    def hook(kind: type[BaseException], error: BaseException, tb: Any) -> None:
        message = str(error)
        if isinstance(error, ValueError) and message.startswith(COPIER_ANSWER_ERRORS):
            print(f"\033[31m{message}\033[0m", file=sys.stderr)
            return
        previous(kind, error, tb)

    hook.copier_ml_deploy = True  # type: ignore[attr-defined]
    return hook


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
            package_default=package_default,
            accelerator_problem=accelerator_problem,
            policy_problem=policy_problem,
            org_default=org_default,
            is_local_model=is_local_model,
            default_model=llm.default_model,
            default_revision=llm.default_revision,
            params_from_name=llm.params_from_name,
            fit_problem=lambda **answers: llm.fit_problem(catalog, answers),
        )
        environment.filters["slugify"] = slugify
        if not getattr(sys.excepthook, "copier_ml_deploy", False):
            sys.excepthook = _validation_excepthook(sys.excepthook)


#: How long a new pod may take to become ready, by weights strategy: the startup probe's
#: budget. Baked weights load from the image (CUDA init, load, warm-up); mounted ones are read
#: over a network volume; downloaded ones come from the Hub first (gigabytes at start).
PROBE_STARTUP_SECONDS = {"bake": 180, "volume": 300, "download": 900}
#: Seconds the server drains in-flight work after SIGTERM (Settings.drain_timeout_s).
DRAIN_TIMEOUT_S = 25
#: Default padded-token budget of one model call (Settings.max_batch_tokens). On a CPU the
#: model's time is about linear in padded tokens and a call's fixed cost is small, so long
#: inputs run in smaller batches (32 inputs of 32 tokens); a GPU's calls cost more than their
#: padding up to far larger batches (text-embeddings-inference's default, 16384).
MAX_BATCH_TOKENS = {"cpu": 1024, "gpu": 16384}
#: Default most share of a batch that may be padding (Settings.max_batch_padding): on a CPU
#: padding costs as much as text (32 real sentences in arrival order, 37% padding, took 2x
#: the time of 32 of one length), so inputs of unlike length run apart; a GPU pads for free
#: up to its budget.
MAX_BATCH_PADDING = {"cpu": 0.2, "gpu": 1.0}
#: preStop sleep: endpoints stop routing to a terminating pod before it stops accepting work.
PRESTOP_SECONDS = 5
#: Slack between the end of the drain and the SIGKILL at terminationGracePeriodSeconds.
SHUTDOWN_MARGIN_SECONDS = 5


#: Kept free on every node for the kubelet, the container runtime and the system DaemonSets
#: (CNI, kube-proxy, the NVIDIA device plugin, DCGM exporter, logging): 1 vCPU, and 4 GiB plus
#: a tenth of the memory above 16 GiB. GKE reserves 2.6 GiB of a 16 GiB node and EKS about
#: 0.7 GiB (cloud.google.com/kubernetes-engine/docs/concepts/plan-node-sizes; the EKS AMI's
#: kube-reserved formula), and the DaemonSets request about 1 GiB more.
SYSTEM_CPUS = 1
SYSTEM_MEMORY_GIB = 4
#: A pod never asks for more than this per GPU, however large the node: the server needs
#: host CPU for tokenization and memory to stage weights, not the whole machine.
MAX_CPUS_PER_GPU = 8
MAX_MEMORY_GIB_PER_GPU = 32


def pod_resources(is_gpu: bool, gpus: int, accelerator: str = "cpu") -> dict[str, str]:
    """Host CPU and memory per replica: on a GPU, this pod's share of the smallest common
    node with that many GPUs (catalog ``nodes``), less what the system keeps.

    A g4dn/g5/g6 ``.xlarge`` (4 vCPU, 16 GiB, 1 GPU) fits a pod of 3 CPU and 12 GiB. Memory
    request == limit (no overcommit: an OOM kill mid-batch drops requests); the CPU limit
    is up to twice the request but never more than the pod's share of the node.
    """
    node = catalog.ACCELERATORS[accelerator].smallest_node(gpus) if is_gpu else None
    if node is None:
        cpus, cpu_limit, memory_gi = (2, 4, 4) if not is_gpu else (4 * gpus, 8 * gpus, 16 * gpus)
    else:
        share = gpus / node.gpus
        spare_memory = node.memory_gib - SYSTEM_MEMORY_GIB - max(0, node.memory_gib - 16) // 10
        cpus = max(1, min(int((node.vcpus - SYSTEM_CPUS) * share), MAX_CPUS_PER_GPU * gpus))
        cpu_limit = min(2 * cpus, max(cpus, int(node.vcpus * share)))
        memory_gi = max(1, min(int(spare_memory * share), MAX_MEMORY_GIB_PER_GPU * gpus))
    return {
        "cpu_request": str(cpus),
        "cpu_limit": str(cpu_limit),
        "memory": f"{memory_gi}Gi",
        "memory_gi": str(memory_gi),
        "node": node.machine if node else "",
        "node_size": f"{node.vcpus} vCPU, {node.memory_gib} GiB, {node.gpus} GPU" if node else "",
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
    pod = pod_resources(is_gpu, gpus, str(answers.get("accelerator") or "cpu"))
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
        "max_batch_tokens": MAX_BATCH_TOKENS["gpu" if acc.is_gpu else "cpu"],
        "max_batch_padding": MAX_BATCH_PADDING["gpu" if acc.is_gpu else "cpu"],
        "prestop_seconds": PRESTOP_SECONDS,
        "termination_grace_seconds": PRESTOP_SECONDS + DRAIN_TIMEOUT_S + SHUTDOWN_MARGIN_SECONDS,
        "pod_resources": pod_resources(acc.is_gpu, count, acc.key),
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
        "vllm": _vllm_context(answers),
        "torch_version": catalog.TORCH_VERSION,
        "python_base_image": catalog.PYTHON_BASE_IMAGE,
        "torch_cpu_index_url": f"{catalog.TORCH_INDEX_BASE}/cpu",
        "model_context_dir": _model_context_dir(answers.get("model_id") or ""),
        "project_slug": slug,
        "k8s_name": k8s_name(slug),
        "env_prefix": package.upper() + "_",
        "image_name": f"{registry}/{slug}" if registry else slug,
    }


def _vllm_context(answers: dict[str, Any]) -> dict[str, Any]:
    """The engine and, with vLLM, its image and arguments (one place for every target)."""
    engine = answers.get("engine") or "builtin"
    # While Copier still asks the questions, the later answers are not there yet.
    if engine != "vllm" or "max_model_len" not in answers:
        return {"engine": engine, "enabled": False, "image": "", "args": [], "model": ""}
    return {
        "engine": engine,
        "enabled": True,
        "image": catalog.VLLM_IMAGE,
        "version": catalog.VLLM_VERSION,
        "args": llm.vllm_args(catalog, answers),
        "model": llm.vllm_model(answers),
    }


class DerivedContext(ContextHook):
    """Add ``derive(answers)`` to the context of every rendered file."""

    def hook(self, context: dict[str, Any]) -> None:
        needed = ("accelerator", "package_name", "project_name")
        # An unknown accelerator is left to its own validator, which names the question.
        if all(k in context for k in needed) and context["accelerator"] in catalog.ACCELERATORS:
            context.update(derive(context))
