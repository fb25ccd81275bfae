"""Each queued input's length in tokens, so batches can be formed by length.

An input is queued with its length in characters (token ids: their count), a proxy that
costs nothing on the event loop. A model worker, before it forms a batch, counts the
queued inputs' tokens in one call, off the event loop (the Rust tokenizer releases the GIL:
a one-sentence request counted on the loop took 25-70 us of it), with the engine's own copy
of the model's tokenizer (truncation and padding off; a fast tokenizer changes that state
on every call, so the copies the model runs with must not be shared). The worker then uses
those counts for the MAX_SEQ_LENGTH check instead of counting again. A predictor without a
Hugging Face fast tokenizer (the zero-cost stand-in, an ONNX graph) keeps the characters
for grouping and counts tokens itself.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Callable, Iterable
from threading import Condition
from typing import Any

from ..errors import InputTooLongError
from .requests import PendingRequest, QueuedItem

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
    """Counts queued inputs' tokens with a tokenizer of its own (None: no fast tokenizer)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()  # the model workers share one copy
        self._source: Any = None
        self._count: Counter | None = None

    def counter(self, predictor: Any) -> Counter | None:
        with self._lock:
            if predictor is not self._source:
                self._source, self._count = predictor, own_counter(predictor)
            return self._count if predictor is not None else None

    def count(self, predictor: Any, queued: Iterable[QueuedItem], lock: Condition) -> None:
        """Count the tokens of the queued texts not counted yet; ``lock``, which the caller
        holds, is released meanwhile (the queue is read under it, lengths set under it)."""
        count = self.counter(predictor)
        if count is None:
            return
        todo = [i for i in queued if not i.counted and isinstance(i.request.items[i.index], str)]
        if not todo:
            return
        lock.release()
        try:
            with self._lock:
                counts = count([str(item.request.items[item.index]) for item in todo])
        except Exception:  # text the tokenizer refuses: the worker's own check says why (422)
            return
        finally:
            lock.acquire()
        for item, tokens in zip(todo, counts, strict=True):
            item.length, item.counted = tokens, True


def too_long(
    predictor: Any, batch: list[QueuedItem], texts: list[str]
) -> dict[PendingRequest, Exception]:
    """Record each input's tokens on its request; the requests with an input longer than the
    model's ``max_seq_length``, each with the error naming its first such input."""
    limit = getattr(predictor, "max_seq_length", None)
    counted = all(item.counted for item in batch)  # by the worker that formed the batch
    counts = [i.length for i in batch] if counted else predictor.count_tokens(texts)
    failed: dict[PendingRequest, Exception] = {}
    for item, tokens in zip(batch, counts, strict=True):
        item.request.tokens[item.index] = tokens
        if limit and tokens > limit and item.request not in failed:
            failed[item.request] = InputTooLongError(item.index, tokens, limit)
    return failed
