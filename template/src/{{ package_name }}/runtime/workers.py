"""How many model workers run batches side by side, on which devices, with how many threads.

On a CPU, one model with every thread on every batch wastes much of them: a batch of short
sentences is too small a matrix to keep many threads busy, and the Python between operators
runs on one. Two workers (replicas sharing one copy of the weights), each with half of the
threads, run two batches at once; on the 2-core benchmark machine that is 1.11-1.33x the
throughput of one worker with 2 threads (docs/benchmarks.md).

On a machine with several GPUs every GPU the project pays for does work (``gpu_layout``):
a model that fits one GPU runs one worker per GPU, each on its own copy of the weights
pinned to ``cuda:0`` .. ``cuda:N-1`` (data parallel); a model too large for one GPU is
sharded across all of them with ``device_map`` and the workers share it. One GPU: one worker.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any, Literal

from ..project import HARDWARE
from ..settings import Settings

#: Workers on a CPU unless ``model_workers`` says otherwise.
CPU_WORKERS = 2
#: A model "fits" one GPU when its weights take at most this share of the GPU's memory: the
#: rest holds activations, the KV cache of generation and the CUDA context.
FIT_FRACTION = 0.6
#: When sharding, each GPU holds weights up to this share of its memory (``max_memory``).
SHARD_FRACTION = 0.85
GIB = 1024**3

GpuMode = Literal["cpu", "single", "data-parallel", "sharded"]


@dataclass(frozen=True)
class WorkerLayout:
    workers: int
    threads: int | None  # CPU threads per worker; None keeps the runtime's default


@dataclass(frozen=True)
class GpuLayout:
    """Where the weights go: ``devices`` are used, all of them, in every mode but cpu."""

    mode: GpuMode
    devices: tuple[str, ...]
    #: sharded: ``max_memory`` for ``from_pretrained(device_map="auto", ...)``
    max_memory: dict[int, str] = field(default_factory=dict)
    #: the weights' size the decision was made on (None: not known yet, e.g. a dry run)
    param_bytes: int | None = None

    @property
    def workers(self) -> int:
        """Batcher workers: one per GPU (data parallel: each on its own device)."""
        return max(1, len(self.devices)) if self.mode != "cpu" else 1

    def as_dict(self) -> dict[str, Any]:
        return {
            "mode": self.mode,
            "gpus": len(self.devices) if self.mode != "cpu" else 0,
            "devices": list(self.devices),
            "workers": self.workers,
            "param_bytes": self.param_bytes,
            "max_memory": {str(k): v for k, v in self.max_memory.items()},
        }

    def describe(self) -> str:
        n = len(self.devices)
        if self.mode == "data-parallel":
            return f"{n} GPUs, one model worker per GPU ({self.devices[0]}..{self.devices[-1]})"
        if self.mode == "sharded":
            return f"{n} GPUs, one model sharded across them with device_map"
        return "1 GPU" if self.mode == "single" else "CPU"


def fits_one_gpu(param_bytes: int, gpu_memory_gb: int) -> bool:
    return param_bytes <= gpu_memory_gb * GIB * FIT_FRACTION


def gpu_layout(
    param_bytes: int | None,
    *,
    gpu_count: int = HARDWARE.gpu_count,
    gpu_memory_gb: int = HARDWARE.gpu_memory_gb,
    is_gpu: bool = HARDWARE.is_gpu,
) -> GpuLayout:
    """Data parallel when the weights fit one GPU (or their size is not known yet), else
    sharded; raises ValueError when even every GPU together cannot hold them."""
    if not is_gpu:
        return GpuLayout("cpu", ("cpu",), param_bytes=param_bytes)
    if gpu_count <= 1:
        return GpuLayout("single", ("cuda",), param_bytes=param_bytes)
    devices = tuple(f"cuda:{index}" for index in range(gpu_count))
    if param_bytes is None or fits_one_gpu(param_bytes, gpu_memory_gb):
        return GpuLayout("data-parallel", devices, param_bytes=param_bytes)
    per_gpu = int(gpu_memory_gb * SHARD_FRACTION)
    if param_bytes > gpu_count * per_gpu * GIB:
        raise ValueError(
            f"the model's weights ({param_bytes / GIB:.1f} GiB) do not fit in {gpu_count} GPUs "
            f"of {gpu_memory_gb} GB: choose a larger accelerator or accelerator_count, or a "
            "smaller torch_dtype"
        )
    max_memory = {index: f"{per_gpu}GiB" for index in range(gpu_count)}
    return GpuLayout("sharded", devices, max_memory=max_memory, param_bytes=param_bytes)


def available_cpus() -> int:
    """CPUs this process may run on (its affinity mask, not the machine's count)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        return os.cpu_count() or 1


def worker_layout(settings: Settings) -> WorkerLayout:
    if settings.device != "cpu":
        gpus = max(1, HARDWARE.gpu_count)
        return WorkerLayout(settings.model_workers or gpus, settings.torch_threads)
    cpus = settings.torch_threads or available_cpus()
    workers = settings.model_workers or min(CPU_WORKERS, cpus)
    return WorkerLayout(workers, max(1, cpus // workers))


def placements(layout: GpuLayout, device: str) -> list[tuple[str, dict[str, Any]]]:
    """(device the inputs go to, extra from_pretrained arguments), one per copy of the model."""
    if layout.mode == "data-parallel":
        return [(name, {}) for name in layout.devices]
    if layout.mode == "sharded":  # inputs enter at the first layer, on the first GPU
        return [(layout.devices[0], {"device_map": "auto", "max_memory": layout.max_memory})]
    return [(device, {})]


def check_gpus(layout: GpuLayout, visible: int) -> None:
    """Refuse to run on fewer GPUs than the project pays for (a silent 1-of-8 is the bug)."""
    if layout.mode in ("data-parallel", "sharded") and visible < len(layout.devices):
        raise RuntimeError(
            f"{len(layout.devices)} GPUs are configured but only {visible} are visible: give the "
            "container all of them (nvidia.com/gpu, --gpus all) or set CUDA_VISIBLE_DEVICES"
        )
