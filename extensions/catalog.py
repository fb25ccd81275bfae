"""The hardware catalog: the one place where facts about accelerators live.

Every artifact the template renders (Dockerfiles, Kubernetes and Kueue manifests,
SageMaker / Vertex AI / Modal deploy code) reads these facts through the Jinja context
built in ``extensions/context.py``; no template file repeats a literal from here.

Sources (checked 2026-11, see docs/decisions/0002-hardware-catalog.md):
- compute capability: NVIDIA "CUDA GPUs - Compute Capability" table;
- lowest CUDA release per architecture: CUDA release notes (Turing 10.0, Ampere GA100 11.0,
  GA10x 11.1, Ada and Hopper 11.8);
- minimum driver per CUDA release: CUDA Toolkit release notes, table 3 (Linux x86_64);
- CUDA images: hub.docker.com/r/nvidia/cuda tags ``<version>-base-ubuntu24.04``;
- torch wheel indexes: download.pytorch.org/whl/<tag> (the wheels bundle the CUDA runtime);
- Kubernetes ``nvidia.com/gpu.product``: values NVIDIA GPU Feature Discovery publishes;
- SageMaker: aws.amazon.com/sagemaker/pricing instance families for real-time inference;
  Serverless Inference has no GPUs;
- Vertex AI: cloud.google.com/vertex-ai/docs/predictions/configure-compute (machine types and
  accelerator counts) and the AcceleratorType enum of the v1 API;
- Modal: modal.com/docs/guide/gpu ``gpu=`` strings (``"H100:2"`` for two).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType


@dataclass(frozen=True)
class CudaRelease:
    """A CUDA release we build images for: its image, torch wheel index and driver floor."""

    version: tuple[int, int]
    image_tag: str  # full tag of the nvidia/cuda image (runtime base, no compiler)
    devel_image_tag: str  # the same release with nvcc, for build stages that compile
    torch_index: str  # suffix of https://download.pytorch.org/whl/<torch_index>
    min_driver: str  # lowest Linux host driver that runs this release

    @property
    def label(self) -> str:
        return f"{self.version[0]}.{self.version[1]}"


#: CUDA releases we support, oldest first. Torch wheels exist for each index listed.
CUDA_RELEASES: tuple[CudaRelease, ...] = (
    CudaRelease(
        version=(12, 6),
        image_tag="nvidia/cuda:12.6.3-base-ubuntu24.04",
        devel_image_tag="nvidia/cuda:12.6.3-devel-ubuntu24.04",
        torch_index="cu126",
        min_driver="560.28.03",
    ),
    CudaRelease(
        version=(12, 8),
        image_tag="nvidia/cuda:12.8.1-base-ubuntu24.04",
        devel_image_tag="nvidia/cuda:12.8.1-devel-ubuntu24.04",
        torch_index="cu128",
        min_driver="570.26",
    ),
)

#: The torch release generated projects pin; wheels exist on every index listed above and
#: on https://download.pytorch.org/whl/cpu.
TORCH_VERSION = "2.13.0"

#: Where the torch wheels of every ``torch_index`` above live (``<base>/<torch_index>``).
TORCH_INDEX_BASE = "https://download.pytorch.org/whl"

#: The release new projects build on unless an accelerator needs a newer one.
PREFERRED_CUDA: tuple[int, int] = (12, 6)

#: Base image of the CPU and ONNX images (and of every image's Python): Debian bookworm's
#: slim Python 3.11, the interpreter the torch CPU wheels and the test machines use
#: (hub.docker.com/_/python tags). Fully qualified so podman needs no short-name lookup.
PYTHON_BASE_IMAGE = "docker.io/library/python:3.11-slim-bookworm"


@dataclass(frozen=True)
class Node:
    """A common cloud machine with this GPU: its size bounds what one pod may request.

    Sizes from the clouds' instance pages (AWS: aws.amazon.com/ec2/instance-types/{g4,g5,g6,
    p4,p5}; GCP: cloud.google.com/compute/docs/gpus and .../accelerator-optimized-machines,
    2026-11). GCP's "GB" of machine memory are GiB.
    """

    gpus: int
    vcpus: int
    memory_gib: int
    machine: str


@dataclass(frozen=True)
class Accelerator:
    """One row of the catalog. ``cpu`` is a row too, with no GPU facts."""

    key: str
    display_name: str
    memory_gb: int
    compute_capability: tuple[int, int] | None = None
    min_cuda: tuple[int, int] | None = None
    k8s_gpu_product: str | None = None  # node label value of nvidia.com/gpu.product
    # GPU count -> cloud machine; an empty mapping means the cloud does not offer it.
    sagemaker_instances: Mapping[int, str] = field(default_factory=dict)
    sagemaker_serverless: bool = False
    vertex_machines: Mapping[int, str] = field(default_factory=dict)
    vertex_accelerator: str | None = None  # AcceleratorType enum name of the v1 API
    modal_gpu: str | None = None
    #: the accelerator to suggest where a cloud lacks this one
    nearest_alternative: str | None = None
    #: the smallest common machine per GPU count (Kubernetes pod sizing)
    nodes: tuple[Node, ...] = ()

    def smallest_node(self, gpus: int) -> Node | None:
        """The smallest listed machine with at least ``gpus`` of this GPU."""
        fitting = [node for node in self.nodes if node.gpus >= gpus]
        return min(fitting, key=lambda n: (n.gpus, n.vcpus, n.memory_gib), default=None)

    @property
    def is_gpu(self) -> bool:
        return self.compute_capability is not None

    @property
    def torch_dtype(self) -> str:
        """Inference dtype: bf16 from Ampere (cc 8.0) on, fp16 before, fp32 on CPU."""
        if self.compute_capability is None:
            return "float32"
        return "bfloat16" if self.compute_capability >= (8, 0) else "float16"

    @property
    def kueue_flavor(self) -> str:
        """Name of the Kueue ResourceFlavor for this accelerator."""
        return self.key

    @property
    def cuda(self) -> CudaRelease | None:
        """The CUDA release images for this accelerator are built on (derived)."""
        if not self.is_gpu:
            return None
        assert self.min_cuda is not None
        wanted = max(self.min_cuda, PREFERRED_CUDA)
        for release in CUDA_RELEASES:
            if release.version >= wanted:
                return release
        raise LookupError(f"no CUDA release in the catalog supports {self.key} (needs {wanted})")

    def modal_gpu_spec(self, count: int) -> str | None:
        if self.modal_gpu is None:
            return None
        return self.modal_gpu if count == 1 else f"{self.modal_gpu}:{count}"


def _frozen(mapping: dict[int, str]) -> Mapping[int, str]:
    return MappingProxyType(mapping)


_ROWS = (
    Accelerator(
        key="cpu",
        display_name="CPU only",
        memory_gb=0,
        sagemaker_instances=_frozen({0: "ml.c6i.xlarge"}),
        sagemaker_serverless=True,
        vertex_machines=_frozen({0: "n2-standard-4"}),
        modal_gpu=None,
    ),
    Accelerator(
        key="nvidia-t4",
        display_name="NVIDIA T4 (16 GB)",
        memory_gb=16,
        compute_capability=(7, 5),
        min_cuda=(10, 0),
        k8s_gpu_product="Tesla-T4",
        sagemaker_instances=_frozen({1: "ml.g4dn.xlarge", 4: "ml.g4dn.12xlarge"}),
        vertex_machines=_frozen({1: "n1-standard-8", 2: "n1-standard-16", 4: "n1-standard-32"}),
        vertex_accelerator="NVIDIA_TESLA_T4",
        modal_gpu="T4",
        nearest_alternative="nvidia-l4",
        nodes=(
            Node(1, 4, 16, "g4dn.xlarge"),
            Node(2, 8, 30, "n1-standard-8"),
            Node(4, 48, 192, "g4dn.12xlarge"),
            Node(8, 96, 384, "g4dn.metal"),
        ),
    ),
    Accelerator(
        key="nvidia-l4",
        display_name="NVIDIA L4 (24 GB)",
        memory_gb=24,
        compute_capability=(8, 9),
        min_cuda=(11, 8),
        k8s_gpu_product="NVIDIA-L4",
        sagemaker_instances=_frozen({1: "ml.g6.xlarge", 4: "ml.g6.12xlarge", 8: "ml.g6.48xlarge"}),
        vertex_machines=_frozen(
            {1: "g2-standard-8", 2: "g2-standard-24", 4: "g2-standard-48", 8: "g2-standard-96"}
        ),
        vertex_accelerator="NVIDIA_L4",
        modal_gpu="L4",
        nearest_alternative="nvidia-a10g",
        nodes=(
            Node(1, 4, 16, "g6.xlarge"),
            Node(2, 24, 96, "g2-standard-24"),
            Node(4, 48, 192, "g6.12xlarge"),
            Node(8, 96, 384, "g2-standard-96"),
        ),
    ),
    Accelerator(
        key="nvidia-a10g",
        display_name="NVIDIA A10G (24 GB, AWS)",
        memory_gb=24,
        compute_capability=(8, 6),
        min_cuda=(11, 1),
        k8s_gpu_product="NVIDIA-A10G",
        sagemaker_instances=_frozen({1: "ml.g5.xlarge", 4: "ml.g5.12xlarge", 8: "ml.g5.48xlarge"}),
        modal_gpu="A10G",
        nearest_alternative="nvidia-l4",
        nodes=(
            Node(1, 4, 16, "g5.xlarge"),
            Node(4, 48, 192, "g5.12xlarge"),
            Node(8, 192, 768, "g5.48xlarge"),
        ),
    ),
    Accelerator(
        key="nvidia-a100-40gb",
        display_name="NVIDIA A100 (40 GB)",
        memory_gb=40,
        compute_capability=(8, 0),
        min_cuda=(11, 0),
        k8s_gpu_product="NVIDIA-A100-SXM4-40GB",
        sagemaker_instances=_frozen({8: "ml.p4d.24xlarge"}),
        vertex_machines=_frozen(
            {1: "a2-highgpu-1g", 2: "a2-highgpu-2g", 4: "a2-highgpu-4g", 8: "a2-highgpu-8g"}
        ),
        vertex_accelerator="NVIDIA_TESLA_A100",
        modal_gpu="A100-40GB",
        nearest_alternative="nvidia-a100-80gb",
        nodes=(
            Node(1, 12, 85, "a2-highgpu-1g"),
            Node(2, 24, 170, "a2-highgpu-2g"),
            Node(4, 48, 340, "a2-highgpu-4g"),
            Node(8, 96, 680, "a2-highgpu-8g"),
        ),
    ),
    Accelerator(
        key="nvidia-a100-80gb",
        display_name="NVIDIA A100 (80 GB)",
        memory_gb=80,
        compute_capability=(8, 0),
        min_cuda=(11, 0),
        k8s_gpu_product="NVIDIA-A100-SXM4-80GB",
        sagemaker_instances=_frozen({8: "ml.p4de.24xlarge"}),
        vertex_machines=_frozen(
            {1: "a2-ultragpu-1g", 2: "a2-ultragpu-2g", 4: "a2-ultragpu-4g", 8: "a2-ultragpu-8g"}
        ),
        vertex_accelerator="NVIDIA_A100_80GB",
        modal_gpu="A100-80GB",
        nearest_alternative="nvidia-h100-80gb",
        nodes=(
            Node(1, 12, 170, "a2-ultragpu-1g"),
            Node(2, 24, 340, "a2-ultragpu-2g"),
            Node(4, 48, 680, "a2-ultragpu-4g"),
            Node(8, 96, 1360, "a2-ultragpu-8g"),
        ),
    ),
    Accelerator(
        key="nvidia-h100-80gb",
        display_name="NVIDIA H100 (80 GB)",
        memory_gb=80,
        compute_capability=(9, 0),
        min_cuda=(11, 8),
        k8s_gpu_product="NVIDIA-H100-80GB-HBM3",
        sagemaker_instances=_frozen({8: "ml.p5.48xlarge"}),
        vertex_machines=_frozen(
            {1: "a3-highgpu-1g", 2: "a3-highgpu-2g", 4: "a3-highgpu-4g", 8: "a3-highgpu-8g"}
        ),
        vertex_accelerator="NVIDIA_H100_80GB",
        modal_gpu="H100",
        nearest_alternative="nvidia-a100-80gb",
        nodes=(
            Node(1, 26, 234, "a3-highgpu-1g"),
            Node(2, 52, 468, "a3-highgpu-2g"),
            Node(4, 104, 936, "a3-highgpu-4g"),
            Node(8, 192, 2048, "p5.48xlarge"),
        ),
    ),
)

#: key -> row, in the order questions list them.
ACCELERATORS: Mapping[str, Accelerator] = MappingProxyType({row.key: row for row in _ROWS})

#: vLLM's OpenAI-compatible server, the engine of GPU text generation (``engine=vllm``):
#: the official image at a pinned release (hub.docker.com/r/vllm/vllm-openai tags
#: ``v<version>``; the same release is vllm 0.34.0 on PyPI, whose argument definitions the
#: template's tests check the generated arguments against). Its entrypoint is ``vllm serve``;
#: it serves /health, /metrics (Prometheus), /v1/* and SageMaker's /ping and /invocations.
VLLM_VERSION = "0.34.0"
VLLM_IMAGE = f"docker.io/vllm/vllm-openai:v{VLLM_VERSION}"

#: Bytes one parameter takes in GPU memory, by ``quantization`` answer: ``none`` serves the
#: checkpoint in the accelerator's dtype (bf16/fp16: 2 bytes); ``fp8`` 1 byte; 4-bit AWQ and
#: GPTQ 0.5 byte plus about a tenth for group scales and zero points.
QUANTIZATION_BYTES = MappingProxyType({"none": 2.0, "fp8": 1.0, "awq": 0.56, "gptq": 0.56})

#: GPU memory vLLM may not use, per GPU: the CUDA context, NCCL buffers and CUDA graphs live
#: outside its budget (``--gpu-memory-utilization`` = 1 - this / the GPU's memory, rounded
#: down to 0.01 and kept within 0.80-0.95).
VLLM_RESERVED_GB_PER_GPU = 2.0
#: Activation peak of a forward pass, per GPU, inside vLLM's budget (its profile run).
VLLM_ACTIVATIONS_GB_PER_GPU = 1.5


def gpu_memory_utilization(acc: Accelerator) -> float:
    """The fraction of each GPU vLLM may take (``--gpu-memory-utilization``)."""
    if not acc.is_gpu:
        return 0.0
    fraction = int(100 * (1 - VLLM_RESERVED_GB_PER_GPU / acc.memory_gb)) / 100
    return min(0.95, max(0.80, fraction))


#: deploy targets that run on a cloud's own machines (and so need the catalog's mapping).
CLOUD_TARGETS = {"sagemaker": "AWS SageMaker", "vertex": "GCP Vertex AI", "modal": "Modal"}


def _machine_map(acc: Accelerator, target: str) -> Mapping[int, str] | None:
    if target == "sagemaker":
        return acc.sagemaker_instances
    if target == "vertex":
        return acc.vertex_machines
    return None


def offers(acc: Accelerator, target: str) -> bool:
    """Whether a cloud target offers this accelerator at all."""
    if target == "modal":
        return acc.modal_gpu is not None or not acc.is_gpu
    machines = _machine_map(acc, target)
    return bool(machines) if machines is not None else True


def target_problem(accelerator: str, count: int, targets: list[str]) -> str:
    """Why this accelerator and count cannot run on the chosen targets ('' when fine).

    The message names the fix, as Copier shows it to the user verbatim.
    """
    acc = ACCELERATORS.get(accelerator)
    if acc is None:
        return f"Unknown accelerator {accelerator!r}; choose one of: {', '.join(ACCELERATORS)}."
    gpus = count if acc.is_gpu else 0
    for target in targets:
        if target not in CLOUD_TARGETS:
            continue
        cloud = CLOUD_TARGETS[target]
        if not offers(acc, target):
            alt = acc.nearest_alternative
            return (
                f"{cloud} does not offer {acc.display_name}. Choose accelerator {alt} "
                f"(the nearest alternative it offers) or drop {target} from deploy_targets."
            )
        machines = _machine_map(acc, target)
        if machines is not None and gpus not in machines:
            counts = ", ".join(str(n) for n in sorted(machines))
            return (
                f"{cloud} offers {acc.display_name} only in groups of {counts} per machine; "
                f"set accelerator_count to one of {counts}."
            )
    return ""


def machine_for(target: str, accelerator: str, count: int) -> str:
    """The instance or machine type a cloud target uses for this accelerator and count."""
    acc = ACCELERATORS[accelerator]
    machines = _machine_map(acc, target)
    if not machines:
        return ""
    return machines.get(count if acc.is_gpu else 0, "")
