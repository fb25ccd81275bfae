"""The batcher's bookkeeping: a queued request, its items, and how answers get back.

A request's items may run in different batches, on different model workers; each result
lands at its input's index, and the request is answered when its last item is done.
"""

from __future__ import annotations

import asyncio
import threading
import time
import weakref
from collections.abc import Awaitable, Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from .errors import ClientGoneError, DeadlineExceededError

Item = str | list[int]
TokenCallback = Callable[[int, str], None]
#: Returns once the client has closed its connection (serve/client.py makes one per request).
ClientGone = Callable[[], Awaitable[None]]

#: A request not answered after this long starts listening for its client's disconnect.
WATCH_AFTER_S = 0.05


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


def live_items(queued: Iterable[QueuedItem], now: float) -> list[QueuedItem]:
    """The items of requests still open; a request past its deadline is marked done (its
    waiter answers 504) and its items are left out."""
    for item in queued:
        if not item.request.done and now > item.request.deadline:
            item.request.done = True
    return [item for item in queued if not item.request.done]


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

    async def wait(self, client_gone: ClientGone | None = None) -> Answer:
        """The answer; :class:`DeadlineExceededError` at the deadline and, when
        ``client_gone`` is given, :class:`ClientGoneError` as soon as it returns."""
        request = self._request
        # One timer on the future itself: asyncio.wait_for adds a second future and a done
        # callback per request, event-loop time that a fast model makes visible.
        watch = _Watch(request, client_gone)
        try:
            outputs = await request.future
        except _Expired:
            raise DeadlineExceededError(
                f"no answer within the request deadline of {self.timeout_s:g} s: the server is "
                "overloaded; retry later or send fewer inputs per request"
            ) from None
        except _Gone:
            raise ClientGoneError("the client closed the connection before its answer") from None
        finally:
            watch.stop()
            request.done = True  # a cancelled, timed-out or abandoned request frees its inputs
        return Answer(outputs, request.tokens)


class _Watch:
    """A waiting request's one timer: at ``WATCH_AFTER_S`` it starts listening for the
    client's disconnect (if it can), at the deadline it expires the request.

    A request answered within ``WATCH_AFTER_S`` (a fast model) costs no listener task; one
    that waits longer is dropped from the queue when its client goes away, so that a client
    which timed out, or a load balancer that gave up, costs no model time."""

    def __init__(self, request: PendingRequest, client_gone: ClientGone | None) -> None:
        self.request, self.client_gone = request, client_gone
        self.listener: asyncio.Task[None] | None = None
        left = max(0.0, request.deadline - time.monotonic())
        first = min(left, WATCH_AFTER_S) if client_gone is not None else left
        self.timer = request.loop.call_later(first, self._fire)

    def _fire(self) -> None:
        request, left = self.request, self.request.deadline - time.monotonic()
        if left <= 0 or self.client_gone is None or self.listener is not None:
            _set_exception(request.future, _Expired())
            return
        self.listener = request.loop.create_task(self._listen(self.client_gone))
        self.timer = request.loop.call_later(left, self._fire)

    async def _listen(self, client_gone: ClientGone) -> None:
        await client_gone()
        _set_exception(self.request.future, _Gone())

    def stop(self) -> None:
        self.timer.cancel()
        if self.listener is not None:
            self.listener.cancel()


class _Expired(Exception):
    """The request's deadline passed before its answer (becomes DeadlineExceededError)."""


class _Gone(Exception):
    """The client went away before its answer (becomes ClientGoneError)."""


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
