"""Whether the client of the request being served is still there.

uvicorn never cancels a request's task when its client disconnects; it only answers
``receive()`` with ``http.disconnect``. Without a listener the engine would run the inputs
of a client that timed out (or of a load balancer that gave up) and answer nobody, while
the requests behind them wait: under overload, retries then double the work. Each HTTP
request's ``receive`` is kept here (a context variable, so per request task), and the
engine listens on it once a request has waited ``WATCH_AFTER_S`` (engine/requests.py).
"""

from __future__ import annotations

from contextvars import ContextVar

from starlette.types import Receive

from ..engine.batcher import ClientGone

_RECEIVE: ContextVar[Receive | None] = ContextVar("serving_receive", default=None)


def track(receive: Receive) -> None:
    """Remember the client of the HTTP request this task serves (its body already read)."""
    _RECEIVE.set(receive)


def client_gone() -> ClientGone | None:
    """What returns once this request's client has disconnected (None outside a request)."""
    receive = _RECEIVE.get()
    if receive is None:
        return None

    async def gone() -> None:
        # After the body, the server only ever answers "http.disconnect": when the client
        # closes the connection, or once the response is sent (the listener is cancelled
        # before that).
        while (await receive())["type"] != "http.disconnect":
            pass

    return gone
