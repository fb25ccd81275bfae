"""Dynamic micro-batching: one engine for every route, every protocol and every task.

Requests put their inputs (items) on one bounded queue; one worker thread takes up to
``max_batch_size`` items at a time, waiting at most ``max_batch_wait_ms`` after the oldest
queued item for a batch to fill (no wait while requests come one at a time), and runs
tokenisation and the model off the event loop.

- Limits count items, not requests: a request with 16 inputs counts 16, and a request larger
  than the batch limit is split across consecutive batches.
- The queue holds at most ``max_queue_items`` items; past that ``submit`` raises
  :class:`QueueFullError` (HTTP 503 with Retry-After) instead of queueing without bound.
- Each request has a deadline; items still queued when it passes are dropped and the
  caller gets :class:`DeadlineExceededError` (HTTP 504).
- Batches are first-in first-out; with a backlog of mixed lengths (more than a third of a
  batch would be padding), items are picked from the oldest ones by similar length instead,
  so short inputs are not padded to the longest one in the queue.
- Only items with the same options (e.g. ``max_new_tokens``) share a batch.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .batching_errors import (
    DeadlineExceededError,
    EngineStoppedError,
    InvalidItemError,
    QueueFullError,
)
from .model import InputTooLongError
from .streaming import RowStreamer

__all__ = [
    "Answer",
    "Batcher",
    "DeadlineExceededError",
    "EngineStoppedError",
    "InvalidItemError",
    "Item",
    "QueueFullError",
    "Ticket",
    "TokenCallback",
]

log = logging.getLogger(__name__)

#: With a backlog, regroup a batch by length when more than this share would be padding.
MAX_PADDING_SHARE = 1 / 3
#: After this many lone single-input batches in a row, stop waiting for batches to fill; the
#: first batch of two or more inputs (load is back) restores ``max_wait_s``.
SOLO_BATCHES_BEFORE_NO_WAIT = 3

Item = str | list[int]
TokenCallback = Callable[[int, str], None]


@dataclass(eq=False)
class _Request:
    items: Sequence[Item]
    options: tuple[tuple[str, Hashable], ...]
    loop: asyncio.AbstractEventLoop
    future: asyncio.Future[list[Any]]
    deadline: float
    on_token: TokenCallback | None = None
    results: list[Any] = field(default_factory=list)
    tokens: list[int] = field(default_factory=list)
    pending: int = 0
    done: bool = False  # answered, failed, timed out or abandoned: skip its queued items

    def __post_init__(self) -> None:
        self.results = [None] * len(self.items)
        self.tokens = [0] * len(self.items)
        self.pending = len(self.items)


@dataclass(eq=False)
class _Item:
    request: _Request
    index: int
    size: int  # length in characters, a cheap proxy for tokens when grouping
    enqueued: float


@dataclass
class Answer:
    """One output per input, in order, and each input's length in tokens."""

    outputs: list[Any]
    tokens: list[int]


@dataclass
class Ticket:
    """A queued request; ``await ticket.wait()`` gives its :class:`Answer`."""

    _request: _Request
    timeout_s: float

    async def wait(self) -> Answer:
        request = self._request
        try:
            left = max(0.0, request.deadline - time.monotonic())
            outputs = await asyncio.wait_for(request.future, left)
        except TimeoutError:
            raise DeadlineExceededError(
                f"no answer within the request deadline of {self.timeout_s:g} s: the server is "
                "overloaded; retry later or send fewer inputs per request"
            ) from None
        finally:
            request.done = True  # a cancelled or timed-out request frees its queued items
        return Answer(outputs, request.tokens)


class Batcher:
    """The engine: ``await submit(items)`` returns one result per item, in order."""

    def __init__(
        self,
        predictor: Callable[[], Any],
        *,
        max_batch_size: int,
        max_wait_s: float,
        max_queue_items: int,
        on_batch: Callable[[int], None] | None = None,
    ) -> None:
        self._predictor = predictor  # called per batch: the model may load after start()
        self.max_batch_size = max_batch_size
        self.max_wait_s = max_wait_s
        self.max_queue_items = max_queue_items
        self._on_batch = on_batch
        self._queue: deque[_Item] = deque()
        self._cond = threading.Condition()
        self._stopping = False
        self._busy = 0  # items taken by the worker and not answered yet
        self._solo_batches = 0  # consecutive batches of one input with nothing else queued
        self._thread: threading.Thread | None = None

    # --- event-loop side ---------------------------------------------------------------
    @property
    def queued(self) -> int:
        return len(self._queue)

    @property
    def fill_wait_s(self) -> float:
        """How long the oldest input waits for a batch to fill: ``max_wait_s``, or 0 while
        traffic is one request at a time (waiting would only add latency)."""
        return 0.0 if self._solo_batches >= SOLO_BATCHES_BEFORE_NO_WAIT else self.max_wait_s

    @property
    def idle(self) -> bool:
        return not self._queue and not self._busy

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="batcher", daemon=True)
        self._thread.start()

    def enqueue(
        self,
        items: Sequence[Item],
        *,
        timeout_s: float,
        options: Mapping[str, Hashable] | None = None,
        on_token: TokenCallback | None = None,
    ) -> Ticket:
        """Queue ``items`` now (raises :class:`QueueFullError` at once when full)."""
        if not items:
            raise InvalidItemError("no inputs: send at least one")
        loop = asyncio.get_running_loop()
        request = _Request(
            items=items,
            options=tuple(sorted((options or {}).items())),
            loop=loop,
            future=loop.create_future(),
            deadline=time.monotonic() + timeout_s,
            on_token=on_token,
        )
        with self._cond:
            if self._stopping:
                raise EngineStoppedError("the server is shutting down and takes no new requests")
            if len(self._queue) + len(items) > self.max_queue_items:
                raise QueueFullError(len(self._queue), len(items), self.max_queue_items)
            now = time.monotonic()
            self._queue.extend(_Item(request, i, len(x), now) for i, x in enumerate(items))
            self._cond.notify()
        return Ticket(request, timeout_s)

    async def submit(
        self,
        items: Sequence[Item],
        *,
        timeout_s: float,
        options: Mapping[str, Hashable] | None = None,
        on_token: TokenCallback | None = None,
    ) -> Answer:
        """Queue ``items`` and wait for one output per item, in order."""
        ticket = self.enqueue(items, timeout_s=timeout_s, options=options, on_token=on_token)
        return await ticket.wait()

    async def stop(self, timeout_s: float) -> None:
        """Take no new work, finish what is queued (up to ``timeout_s``), stop the worker."""
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        if self._thread is not None:
            await asyncio.to_thread(self._thread.join, timeout_s)

    # --- worker side -------------------------------------------------------------------
    def _run(self) -> None:
        while True:
            batch = self._next_batch()
            if batch is None:
                return
            try:
                self._process(batch)
            except Exception as exc:  # fail the batch's requests, keep serving
                log.exception("batch of %d failed", len(batch))
                self._fail({item.request for item in batch}, exc)
            finally:
                with self._cond:
                    self._busy -= len(batch)

    def _next_batch(self) -> list[_Item] | None:
        with self._cond:
            while True:
                while not self._queue:
                    if self._stopping:
                        return None
                    self._cond.wait()
                fill_by = self._queue[0].enqueued + self.fill_wait_s
                while len(self._queue) < self.max_batch_size and not self._stopping:
                    left = fill_by - time.monotonic()
                    if left <= 0:
                        break
                    self._cond.wait(left)
                batch = self._take()
                if batch:
                    self._busy += len(batch)
                    alone = len(batch) == 1 and not self._queue
                    self._solo_batches = self._solo_batches + 1 if alone else 0
                    return batch

    def _take(self) -> list[_Item]:
        """Pop the next batch: the oldest compatible items, regrouped by length when mixed."""
        now = time.monotonic()
        for item in self._queue:
            if not item.request.done and now > item.request.deadline:
                item.request.done = True
        live = [item for item in self._queue if not item.request.done]
        if not live:
            self._queue.clear()
            return []
        first = live[0]
        compatible = [i for i in live if i.request.options == first.request.options]
        chosen = compatible[: self.max_batch_size]
        if len(compatible) > len(chosen) and _padding_share(chosen) > MAX_PADDING_SHARE:
            # Mixed lengths and a backlog: take the items closest in length to the oldest.
            window = compatible[: 4 * self.max_batch_size]
            window.sort(key=lambda item: abs(item.size - first.size))
            chosen = window[: self.max_batch_size]
        taken = {id(item) for item in chosen}
        self._queue = deque(item for item in live if id(item) not in taken)
        return chosen

    def _process(self, batch: list[_Item]) -> None:
        predictor = self._predictor()
        failed: dict[_Request, Exception] = {}
        texts: list[str] = []
        for item in batch:
            try:
                texts.append(_as_text(predictor, item))
            except InvalidItemError as exc:
                failed.setdefault(item.request, exc)
                texts.append("")
        limit = getattr(predictor, "max_seq_length", None)
        counts = predictor.count_tokens(texts)
        for item, tokens in zip(batch, counts, strict=True):
            item.request.tokens[item.index] = tokens
            if limit and tokens > limit and item.request not in failed:
                failed[item.request] = InputTooLongError(item.index, tokens, limit)
        for request, error in failed.items():
            self._fail({request}, error)
        keep = [(i, t) for i, t in zip(batch, texts, strict=True) if i.request not in failed]
        if not keep:
            return
        kwargs: dict[str, Any] = dict(keep[0][0].request.options)
        if any(item.request.on_token for item, _ in keep):
            kwargs["streamer"] = RowStreamer(predictor.tokenizer, [item for item, _ in keep])
        if self._on_batch:
            self._on_batch(len(keep))
        outputs = predictor.predict([t for _, t in keep], **kwargs)
        finished: list[_Request] = []
        for (item, _), output in zip(keep, outputs, strict=True):
            request = item.request
            request.results[item.index] = output
            request.pending -= 1
            if request.pending == 0:
                finished.append(request)
        _deliver(finished)

    def _fail(self, requests: set[_Request], exc: Exception) -> None:
        for request in requests:
            request.done = True
            request.loop.call_soon_threadsafe(_set_exception, request.future, exc)


def _padding_share(items: list[_Item]) -> float:
    """Share of a padded batch that would be padding (by character length)."""
    longest = max(item.size for item in items)
    return 1 - sum(item.size for item in items) / (longest * len(items)) if longest else 0.0


def _as_text(predictor: Any, item: _Item) -> str:
    value = item.request.items[item.index]
    if isinstance(value, str):
        return value
    vocab = len(predictor.tokenizer)
    bad = [t for t in value if not 0 <= t < vocab]
    if bad:
        raise InvalidItemError(
            f"input {item.index} has token ids outside 0..{vocab - 1}: {bad[:5]}"
        )
    return str(predictor.tokenizer.decode(value, skip_special_tokens=True))


def _deliver(finished: list[_Request]) -> None:
    by_loop: dict[asyncio.AbstractEventLoop, list[_Request]] = {}
    for request in finished:
        by_loop.setdefault(request.loop, []).append(request)
    for loop, requests in by_loop.items():  # one wake-up of each event loop per batch
        loop.call_soon_threadsafe(_set_results, requests)


def _set_results(requests: list[_Request]) -> None:
    for request in requests:
        if not request.future.done():
            request.future.set_result(request.results)


def _set_exception(future: asyncio.Future[list[Any]], exc: Exception) -> None:
    if not future.done():
        future.set_exception(exc)
