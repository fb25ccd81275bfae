"""Dynamic micro-batching: one engine for every route, every protocol and every task.

Requests put their inputs (items) on one bounded queue; ``workers`` model workers (threads)
each take up to ``max_batch_size`` items at a time, waiting at most ``max_batch_wait_ms``
after the oldest queued item for a batch to fill (no wait while requests come one at a
time), and run tokenisation and the model off the event loop.

- Limits count items, not requests: a request with 16 inputs counts 16, and a request larger
  than the batch limit is split across consecutive batches.
- Several workers (CPU: model replicas sharing one copy of the weights, each with its share
  of the CPU threads) run batches side by side; when several are idle, the queued items are
  shared out among them instead of all going to one.
- At most ``max_queue_items`` items queue; past that :class:`QueueFullError` (503). Items
  still queued at their request's deadline are dropped: :class:`DeadlineExceededError` (504).
- Inputs are counted in tokens when queued (lengths.py); a batch holds the oldest input
  and those closest to it in length, within ``max_batch_size`` inputs, ``max_batch_tokens``
  padded tokens and ``max_batch_padding`` padding; a padding-free model's batches (the packed
  forward) are bounded by real tokens instead (grouping.py).
- Only items with the same options (e.g. ``max_new_tokens``) share a batch.
"""

from __future__ import annotations

import asyncio
import logging
import math
import threading
import time
from collections import deque
from collections.abc import Callable, Hashable, Mapping, Sequence
from functools import partial
from typing import Any

from .errors import (
    ClientGoneError,
    DeadlineExceededError,
    EngineStoppedError,
    InvalidItemError,
    QueueFullError,
)
from .grouping import next_batch
from .isolation import run_isolated
from .items import as_text
from .lengths import Lengths, too_long
from .requests import (
    Answer,
    ClientGone,
    Item,
    PendingRequest,
    QueuedItem,
    Results,
    Ticket,
    TokenCallback,
    live_items,
)
from .streaming import RowStreamer

__all__ = [
    "Answer",
    "Batcher",
    "ClientGone",
    "ClientGoneError",
    "DeadlineExceededError",
    "EngineStoppedError",
    "InvalidItemError",
    "Item",
    "QueueFullError",
    "Ticket",
    "TokenCallback",
]

log = logging.getLogger(__name__)

#: After this many lone single-input batches in a row, stop waiting for batches to fill; the
#: first batch of two or more inputs (load is back) restores ``max_wait_s``.
SOLO_BATCHES_BEFORE_NO_WAIT = 3


class Batcher:
    """The engine: ``await submit(items)`` returns one result per item, in order."""

    def __init__(
        self,
        predictor: Callable[[], Any],
        *,
        max_batch_size: int,
        max_wait_s: float,
        max_queue_items: int,
        max_batch_tokens: int | None = None,
        max_batch_padding: float = 1.0,
        workers: int = 1,
        on_batch: Callable[[int], None] | None = None,
    ) -> None:
        if workers < 1:
            raise ValueError(f"workers must be at least 1, not {workers}")
        self._predictor = predictor  # called per batch: the model may load after start()
        self.max_batch_size = max_batch_size
        self.max_wait_s = max_wait_s
        self.max_batch_tokens = max_batch_tokens or math.inf
        self.max_batch_padding = max_batch_padding
        self.max_queue_items = max_queue_items
        self.workers = workers
        self._on_batch = on_batch
        self._queue: deque[QueuedItem] = deque()
        self._cond = threading.Condition()
        self._results = Results()
        self._lengths = Lengths()
        self._stopping = False
        self._busy = 0  # items taken by a worker and not answered yet
        self._idle = 0  # workers waiting for a batch
        self._solo_batches = 0  # consecutive batches of one input with nothing else queued
        self._waker: asyncio.AbstractEventLoop | None = None  # a wake-up is scheduled there
        self._threads: list[threading.Thread] = []

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

    @property
    def predictor(self) -> Any:
        return self._predictor()  # None until loaded; the routes check inputs against it

    def start(self) -> None:
        for number in range(self.workers):
            thread = threading.Thread(target=self._run, name=f"batcher-{number}", daemon=True)
            thread.start()
            self._threads.append(thread)

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
        request = PendingRequest(
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
            self._results.track(request)
            was_empty = not self._queue
            self._queue.extend(QueuedItem(request, i, len(x), now) for i, x in enumerate(items))
            # Wake a worker when one waits for work or a batch is full, once per turn of the
            # event loop: requests that arrive together reach it together, with one wake-up.
            if (was_empty or len(self._queue) >= self.max_batch_size) and self._waker is not loop:
                self._waker = loop
                loop.call_soon(self._wake)
        return Ticket(request, timeout_s)

    def _wake(self) -> None:
        with self._cond:
            self._waker = None
            self._cond.notify()

    async def submit(
        self,
        items: Sequence[Item],
        *,
        timeout_s: float,
        options: Mapping[str, Hashable] | None = None,
        on_token: TokenCallback | None = None,
        client_gone: ClientGone | None = None,
    ) -> Answer:
        """Queue ``items`` and wait for one output per item, in order (see Ticket.wait)."""
        ticket = self.enqueue(items, timeout_s=timeout_s, options=options, on_token=on_token)
        return await ticket.wait(client_gone)

    async def stop(self, timeout_s: float) -> None:
        """Take no new work, finish what is queued (up to ``timeout_s``), stop the workers."""
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        deadline = time.monotonic() + timeout_s
        for thread in self._threads:
            await asyncio.to_thread(thread.join, max(0.0, deadline - time.monotonic()))

    def abort(self, exc: Exception) -> None:
        """End of a drain: take no new work and answer every open request with ``exc``."""
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        self._results.fail_open(exc)  # the workers skip the queued items of failed requests

    # --- worker side -------------------------------------------------------------------
    def _run(self) -> None:
        source: Any = None  # the loaded predictor, and this worker's replica of it
        replica: Any = None
        while True:
            batch = self._next_batch()
            if batch is None:
                return
            try:
                predictor = self._predictor()
                if predictor is not source:
                    source, replica = predictor, self._replica(predictor)
                run_isolated(batch, partial(self._process, predictor=replica), self._results.fail)
            except Exception as exc:  # no model yet, or a replica failed: fail them, keep serving
                log.exception("batch of %d failed", len(batch))
                self._results.fail({item.request for item in batch}, exc)
            finally:
                with self._cond:
                    self._busy -= len(batch)

    def _replica(self, predictor: Any) -> Any:
        """A worker's own view of the model: the same weights, its own tokenizer state."""
        make = getattr(predictor, "replica", None)
        return make() if self.workers > 1 and callable(make) else predictor

    def _next_batch(self) -> list[QueuedItem] | None:
        with self._cond:
            self._idle += 1
            try:
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
                    self._lengths.count(self._predictor(), self._queue, self._cond)
                    batch = self._take(share_among=self._idle)
                    if batch:
                        # One request at a time: a lone input, nothing queued, no other worker
                        # busy (not a lone input caught between bursts under load).
                        alone = len(batch) == 1 and not self._queue and not self._busy
                        self._solo_batches = self._solo_batches + 1 if alone else 0
                        self._busy += len(batch)
                        if self._queue:
                            self._cond.notify()  # what is left is for another idle worker
                        return batch
            finally:
                self._idle -= 1

    def _take(self, share_among: int) -> list[QueuedItem]:
        """Pop the next batch of compatible items (grouping.py picks which).

        With ``share_among`` idle workers, a batch takes only its share of what is queued,
        so that idle workers run the rest side by side instead of waiting."""
        now = time.monotonic()
        live = live_items(self._queue, now)  # those of requests past their deadline are dropped
        if not live:
            self._queue.clear()
            return []
        options = live[0].request.options
        compatible = [i for i in live if i.request.options == options]
        size = min(self.max_batch_size, math.ceil(len(compatible) / max(1, share_among)))
        free = getattr(self._predictor(), "padding_free", False)  # runtime/packed.py
        chosen = next_batch(
            compatible, size, self.max_batch_tokens, now, self.max_batch_padding, free
        )
        taken = {id(item) for item in chosen}
        self._queue = deque(item for item in live if id(item) not in taken)
        return chosen

    def _process(self, batch: list[QueuedItem], predictor: Any) -> None:
        # a bad item raises: isolation.py; one too long fails only its own request
        texts = [as_text(predictor, item.request.items[item.index], item.index) for item in batch]
        failed = too_long(predictor, batch, texts)
        for request, error in failed.items():
            self._results.fail({request}, error)
        keep = [(i, t) for i, t in zip(batch, texts, strict=True) if i.request not in failed]
        if not keep:
            return
        kwargs: dict[str, Any] = dict(keep[0][0].request.options)
        if any(item.request.on_token for item, _ in keep):
            kwargs["streamer"] = RowStreamer(predictor.tokenizer, [item for item, _ in keep])
        if self._on_batch:
            self._on_batch(len(keep))
        outputs = predictor.predict([t for _, t in keep], **kwargs)
        self._results.record([(item, out) for (item, _), out in zip(keep, outputs, strict=True)])
