"""The batcher's bookkeeping: a queued request, its items, and how answers get back.

A request's items may run in different batches, on different model workers; each result
lands at its input's index, and the request is answered when its last item is done.
"""

from __future__ import annotations

import asyncio
import threading
import time
import weakref
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field
from typing import Any

from .errors import DeadlineExceededError

Item = str | list[int]
TokenCallback = Callable[[int, str], None]


@dataclass(eq=False)
class PendingRequest:
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
    streamed: bool = False  # some text already went to the client: it cannot be rerun

    def __post_init__(self) -> None:
        self.results = [None] * len(self.items)
        self.tokens = [0] * len(self.items)
        self.pending = len(self.items)


@dataclass(eq=False)
class QueuedItem:
    request: PendingRequest
    index: int
    length: int  # in characters until a worker counts its tokens: see lengths.py
    enqueued: float
    counted: bool = False  # length is in the model's tokens


@dataclass
class Answer:
    """One output per input, in order, and each input's length in tokens."""

    outputs: list[Any]
    tokens: list[int]


@dataclass
class Ticket:
    """A queued request; ``await ticket.wait()`` gives its :class:`Answer`."""

    _request: PendingRequest
    timeout_s: float

    async def wait(self) -> Answer:
        request = self._request
        # One timer on the future itself: asyncio.wait_for adds a second future and a done
        # callback per request, event-loop time that a fast model makes visible.
        left = max(0.0, request.deadline - time.monotonic())
        timer = request.loop.call_later(left, _expire, request.future)
        try:
            outputs = await request.future
        except _Expired:
            raise DeadlineExceededError(
                f"no answer within the request deadline of {self.timeout_s:g} s: the server is "
                "overloaded; retry later or send fewer inputs per request"
            ) from None
        finally:
            timer.cancel()
            request.done = True  # a cancelled or timed-out request frees its queued items
        return Answer(outputs, request.tokens)


class _Expired(Exception):
    """The request's deadline passed before its answer (becomes DeadlineExceededError)."""


def _expire(future: asyncio.Future[list[Any]]) -> None:
    if not future.done():
        future.set_exception(_Expired())


class Results:
    """Collects outputs from every worker thread and answers finished requests."""

    def __init__(self) -> None:
        self._lock = threading.Lock()  # two workers may finish parts of one request at once
        self._open: weakref.WeakSet[PendingRequest] = weakref.WeakSet()  # queued, unanswered

    def track(self, request: PendingRequest) -> None:
        """Remember a queued request until it is answered (see :meth:`fail_open`)."""
        with self._lock:
            self._open.add(request)

    def record(self, done: list[tuple[QueuedItem, Any]]) -> None:
        finished: list[PendingRequest] = []
        with self._lock:
            for item, output in done:
                request = item.request
                request.results[item.index] = output
                request.pending -= 1
                if request.pending == 0:
                    finished.append(request)
        by_loop: dict[asyncio.AbstractEventLoop, list[PendingRequest]] = {}
        for request in finished:
            by_loop.setdefault(request.loop, []).append(request)
        for loop, requests in by_loop.items():  # one wake-up of each event loop per batch
            loop.call_soon_threadsafe(_set_results, requests)

    @staticmethod
    def fail(requests: set[PendingRequest], exc: Exception) -> None:
        for request in requests:
            request.done = True
            request.loop.call_soon_threadsafe(_set_exception, request.future, exc)

    def fail_open(self, exc: Exception) -> int:
        """Fail every request not answered yet, queued or in a running batch (a batch
        that finishes later finds its requests answered); returns how many."""
        with self._lock:
            open_requests = {r for r in self._open if not r.future.done()}
            self._open.clear()
        self.fail(open_requests, exc)
        return len(open_requests)


def _set_results(requests: list[PendingRequest]) -> None:
    for request in requests:
        if not request.future.done():
            request.future.set_result(request.results)


def _set_exception(future: asyncio.Future[list[Any]], exc: Exception) -> None:
    if not future.done():
        future.set_exception(exc)
