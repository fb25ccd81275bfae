"""How many model workers run batches side by side, and how many CPU threads each gets.

On a CPU, one model with every thread on every batch wastes much of them: a batch of short
sentences is too small a matrix to keep many threads busy, and the Python between operators
runs on one. Two workers (replicas sharing one copy of the weights), each with half of the
threads, run two batches at once; on the 2-core benchmark machine that is 1.11-1.33x the
throughput of one worker with 2 threads (docs/benchmarks.md). A GPU runs one worker: its
batches already fill the device.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from ..settings import Settings

#: Workers on a CPU unless ``model_workers`` says otherwise.
CPU_WORKERS = 2


@dataclass(frozen=True)
class WorkerLayout:
    workers: int
    threads: int | None  # CPU threads per worker; None keeps the runtime's default


def available_cpus() -> int:
    """CPUs this process may run on (its affinity mask, not the machine's count)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        return os.cpu_count() or 1


def worker_layout(settings: Settings) -> WorkerLayout:
    if settings.device != "cpu":
        return WorkerLayout(settings.model_workers or 1, settings.torch_threads)
    cpus = settings.torch_threads or available_cpus()
    workers = settings.model_workers or min(CPU_WORKERS, cpus)
    return WorkerLayout(workers, max(1, cpus // workers))
