"""(c) BentoML with adaptive batching (run with `bentoml serve bento_service:Embed`).

BENCH_WORKERS sets the worker processes (1 for 'bentoml', 2 for 'bentoml-2w'); BentoML 1.4
reads the count from `@bentoml.service(workers=...)` and starts that many copies of this
service, each loading its own model and batching on its own. Torch threads per worker come
from BENCH_TORCH_THREADS (see minilm.py).
"""

from __future__ import annotations

import os

import bentoml
from minilm import MAX_BATCH, Embedder

WORKERS = int(os.environ.get("BENCH_WORKERS", "1"))


@bentoml.service(workers=WORKERS, traffic={"timeout": 60, "max_concurrency": 1024})
class Embed:
    def __init__(self) -> None:
        self.embedder = Embedder()

    @bentoml.api(batchable=True, max_batch_size=MAX_BATCH, max_latency_ms=10_000)
    def embed(self, inputs: list[str]) -> list[list[float]]:
        return self.embedder.embed(inputs)
