"""Each input's length in tokens when it is queued, so batches can be formed by length.

The count runs on the event loop, once per request, with the engine's own copy of the
model's Rust tokenizer (truncation and padding off): a fast tokenizer changes its padding
and truncation state on every call, so the copy the model workers use must not be shared.
A sentence costs a few microseconds. Before the model is loaded, and for a predictor
without a Hugging Face fast tokenizer (the zero-cost stand-in, an ONNX graph), an input's
length is its characters (or its token ids): a cheap proxy, as good for ordering.

These counts only group inputs; the model worker's own count still decides the 422 for an
input longer than MAX_SEQ_LENGTH.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Callable, Sequence
from typing import Any

from .requests import Item

Counter = Callable[[list[str]], list[int]]


def own_counter(predictor: Any) -> Counter | None:
    """A token counter of the predictor's tokenizer that nothing else uses, or None."""
    tokenizer = getattr(predictor, "tokenizer", None)
    if tokenizer is None and getattr(predictor, "members", None):  # one model per GPU
        tokenizer = getattr(predictor.members[0], "tokenizer", None)
    backend = getattr(tokenizer, "backend_tokenizer", None)
    if backend is None:
        return None
    counter = copy.deepcopy(backend)
    counter.no_truncation()
    counter.no_padding()
    encode = getattr(counter, "encode_batch_fast", counter.encode_batch)  # no offsets: faster

    def count(texts: list[str]) -> list[int]:
        return [len(encoding.ids) for encoding in encode(texts)]

    return count


class Lengths:
    """``lengths(predictor, items)``: one length per item (tokens once the model is loaded)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()  # enqueue may run on more than one event loop
        self._source: Any = None
        self._count: Counter | None = None

    def __call__(self, predictor: Any, items: Sequence[Item]) -> list[int]:
        texts = [item for item in items if isinstance(item, str)]
        if predictor is None or not texts:
            return [len(item) for item in items]
        with self._lock:
            if predictor is not self._source:
                self._source, self._count = predictor, own_counter(predictor)
            if self._count is None:
                return [len(item) for item in items]
            try:
                counts = iter(self._count(texts))
            except Exception:  # text the tokenizer refuses: the worker's check says why (422)
                return [len(item) for item in items]
        return [next(counts) if isinstance(item, str) else len(item) for item in items]
