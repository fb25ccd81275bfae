"""A stand-in model whose forward pass costs nothing: the server's own ceiling.

``MODEL_STUB=zero-cost`` replaces the model with :class:`ZeroCostPredictor`, which answers
every input at once with a fixed output of the real shape (a unit vector of
``DIMENSIONS`` floats for embeddings, one label for classification). What a server then
achieves is what its HTTP, JSON and batching cost: the bound a GPU deployment meets when
the model is fast. The benchmark (``benchmarks/serving/ceiling.py``) and the tests use it;
it is never the default, it is refused on SageMaker and Vertex AI (settings.py), and it
logs a warning when it loads.
"""

from __future__ import annotations

import logging
import math
from typing import Any, Self

from ..errors import InputTooLongError
from ..settings import ENV_PREFIX, Settings

log = logging.getLogger(__name__)

#: all-MiniLM-L6-v2's width, so answers are as large as the default model's.
DIMENSIONS = 384
#: The stand-in's vocabulary, for inputs sent as token ids (engine/items.py).
VOCAB_SIZE = 30522


class ZeroCostPredictor:
    """Fixed outputs, no model, no tokenizer (lengths are counted in words)."""

    def __init__(self, task: str, device: str, max_seq_length: int) -> None:
        self.task, self.device, self.max_seq_length = task, device, max_seq_length
        value = 1 / math.sqrt(DIMENSIONS)
        self._output: Any = (
            [value] * DIMENSIONS
            if task == "feature-extraction"
            else {"label": "stub", "score": 1.0, "scores": {"stub": 1.0}}
        )

    def count_tokens(self, texts: list[str]) -> list[int]:
        return [len(text.split()) + 2 for text in texts]  # words and two special tokens

    def check_lengths(self, texts: list[str]) -> None:
        for index, tokens in enumerate(self.count_tokens(texts)):
            if tokens > self.max_seq_length:
                raise InputTooLongError(index, tokens, self.max_seq_length)

    def predict(self, texts: list[str]) -> list[Any]:
        return [self._output] * len(texts)

    def vocab_size(self) -> int:
        return VOCAB_SIZE

    def decode_ids(self, ids: list[int]) -> str:
        return " ".join(f"t{token}" for token in ids)

    def active_device(self) -> str:
        return self.device

    def replica(self) -> Self:
        return self


def load_stub(settings: Settings) -> ZeroCostPredictor:
    log.warning(
        "%sMODEL_STUB=zero-cost: serving a stand-in with fixed outputs, not %s; for "
        "benchmarks of the server itself only",
        ENV_PREFIX,
        settings.model_source,
    )
    return ZeroCostPredictor(settings.task, settings.device, settings.max_seq_length)
