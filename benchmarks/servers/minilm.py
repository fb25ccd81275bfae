"""The one embedding function every benchmarked server runs (same model, same math).

Mean pooling over real tokens, then L2 normalisation, as in the generated server. Torch
threads come from BENCH_TORCH_THREADS so every system gets the same number.
"""

from __future__ import annotations

import os
from typing import Any

MAX_BATCH = 32  # sentences per forward pass, for every system


class Embedder:
    def __init__(self, model_dir: str | None = None) -> None:
        import torch
        from transformers import AutoModel, AutoTokenizer

        torch.set_num_threads(int(os.environ.get("BENCH_TORCH_THREADS", "2")))
        path = model_dir or os.environ["BENCH_MODEL_DIR"]
        self.torch = torch
        self.tokenizer = AutoTokenizer.from_pretrained(path)
        self.model = AutoModel.from_pretrained(path).eval()

    def embed(self, texts: list[str]) -> list[list[float]]:
        out: list[list[float]] = []
        for start in range(0, len(texts), MAX_BATCH):
            out.extend(self._forward(texts[start : start + MAX_BATCH]))
        return out

    def _forward(self, texts: list[str]) -> list[Any]:
        torch = self.torch
        batch = self.tokenizer(
            texts, padding=True, truncation=True, max_length=256, return_tensors="pt"
        )
        with torch.inference_mode():
            hidden = self.model(**batch).last_hidden_state
            mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1e-9)
            return torch.nn.functional.normalize(pooled, p=2, dim=1).tolist()  # type: ignore[no-any-return]
