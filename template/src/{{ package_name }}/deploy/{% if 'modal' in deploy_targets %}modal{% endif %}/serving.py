"""The server started, loaded and warmed before a Modal container takes any traffic.

Modal routes inputs to a container as soon as its ``@modal.enter`` returns. The server's
own lifespan loads the model in a background thread (so that /health answers during a
long load); on Modal that would answer the first requests with 503. ``StartedServer.start``
runs the lifespan's startup here and blocks until every model worker is warm, and the
ASGI app it hands to Modal then treats Modal's own lifespan messages as done, so nothing
loads twice. ``predict`` queues texts on the same engine as the HTTP routes, so concurrent
Python callers (``Service().predict.remote``) are batched together too.
"""

from __future__ import annotations

import asyncio
import threading
import time
from contextlib import AbstractAsyncContextManager
from typing import Any

from fastapi import FastAPI
from starlette.types import Receive, Scope, Send

from ...serve.app import create_app
from ...serve.state import Health, ServerState
from ...settings import Settings

#: how often ``start`` looks at the loader's progress
POLL_S = 0.05


class StartedServer:
    """The project's ASGI app with its lifespan already entered and the model ready."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.app: FastAPI = create_app(settings)
        # the lifespan runs on its own loop and thread: callers may or may not have a loop
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._lifespan: AbstractAsyncContextManager[Any] | None = None

    @property
    def state(self) -> ServerState:
        state: ServerState = self.app.state.server
        return state

    def start(self, timeout_s: float) -> None:
        """Enter the lifespan, then wait for the model: READY returns, FAILED raises."""
        self._thread.start()
        self._lifespan = self.app.router.lifespan_context(self.app)
        asyncio.run_coroutine_threadsafe(self._lifespan.__aenter__(), self._loop).result()
        deadline = time.monotonic() + timeout_s
        while self.state.health not in (Health.READY, Health.FAILED):
            if time.monotonic() > deadline:
                raise TimeoutError(f"the model was not ready after {timeout_s:.0f} s")
            time.sleep(POLL_S)
        if self.state.health is Health.FAILED:
            raise RuntimeError(self.state.reason)

    def stop(self) -> None:
        """Drain queued work and stop the engine (``@modal.exit``)."""
        if self._lifespan is not None:
            done = self._lifespan.__aexit__(None, None, None)
            asyncio.run_coroutine_threadsafe(done, self._loop).result()
            self._lifespan = None
        self._loop.call_soon_threadsafe(self._loop.stop)

    async def predict(self, texts: list[str]) -> list[Any]:
        """Queue ``texts`` on the engine (batched with every other caller), one output each."""
        self.state.predictor.check_lengths(texts)  # a clear error, before queueing
        engine = self.app.state.engine
        timeout_s = self.settings.request_timeout_s
        answer = await engine.submit(texts, timeout_s=timeout_s)
        return list(answer.outputs)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":  # started in start(), stopped in stop()
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        await self.app(scope, receive, send)
