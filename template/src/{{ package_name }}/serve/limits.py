"""One body-size limit for every route and every transfer encoding (413 JSON, at once).

The body is read here, before any route sees it, up to the limit: a larger Content-Length,
or a chunked body that grows past the limit, is answered 413 before the app is called, so
the answer is the same for every route with or without hot routes, and the ASGI protocol
is never broken by a second answer to one request.
"""

from __future__ import annotations

import json

from starlette.types import ASGIApp, Message, Receive, Scope, Send

#: A body over the limit by at most this factor is read to its end (and dropped) before the
#: 413, so that a client still sending reads the answer instead of a reset connection.
DRAIN_FACTOR = 8
#: The scope key under which the whole body, once read and within the limit, is kept.
BODY_KEY = "serving.body"


async def _discard(receive: Receive, budget: int) -> None:
    """Read and drop the rest of a body, up to ``budget`` bytes."""
    while budget > 0:
        message = await receive()
        if message["type"] == "http.disconnect" or not message.get("more_body", False):
            return
        budget -= len(message.get("body", b""))


class BodySizeLimit:
    """Pure ASGI middleware: checks Content-Length, then reads and counts the body."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app, self.max_bytes = app, max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = None
        for name, value in scope.get("headers") or ():
            if name == b"content-length":
                declared = value
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            if int(declared) <= DRAIN_FACTOR * self.max_bytes:
                await _discard(receive, DRAIN_FACTOR * self.max_bytes)
            await self._reject(scope, send)
            return
        chunks: list[bytes] = []
        received = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return  # the client went away before sending its request
            chunk = message.get("body", b"")
            received += len(chunk)
            if received > self.max_bytes:
                if message.get("more_body", False):
                    await _discard(receive, DRAIN_FACTOR * self.max_bytes - received)
                await self._reject(scope, send)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = chunks[0] if len(chunks) == 1 else b"".join(chunks)
        scope[BODY_KEY] = body  # the hot routes take it from here instead of re-reading
        await self.app(scope, replay(body, receive), send)

    async def _reject(self, scope: Scope, send: Send) -> None:
        message = f"request body is larger than the limit of {self.max_bytes} bytes"
        error: object = {"type": "body_too_large", "message": message}
        if str(scope.get("path", "")).startswith("/v2/"):
            error = message  # Open Inference Protocol clients expect a plain string
        body = json.dumps({"error": error}).encode()
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            (b"connection", b"close"),  # the rest of the body is not read
        ]
        await send({"type": "http.response.start", "status": 413, "headers": headers})
        await send({"type": "http.response.body", "body": body})


def replay(body: bytes, receive: Receive) -> Receive:
    """A ``receive`` that gives the body already read, then the client's later messages."""
    pending = True

    async def replayed() -> Message:
        nonlocal pending
        if pending:
            pending = False
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replayed
