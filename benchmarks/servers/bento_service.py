"""(c) BentoML with adaptive batching (run with `bentoml serve bento_service:Embed`)."""

from __future__ import annotations

import bentoml
from minilm import MAX_BATCH, Embedder


@bentoml.service(workers=1, traffic={"timeout": 60, "max_concurrency": 1024})
class Embed:
    def __init__(self) -> None:
        self.embedder = Embedder()

    @bentoml.api(batchable=True, max_batch_size=MAX_BATCH, max_latency_ms=10_000)
    def embed(self, inputs: list[str]) -> list[list[float]]:
        return self.embedder.embed(inputs)
