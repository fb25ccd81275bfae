"""Run the app under uvicorn with a graceful, readiness-aware shutdown.

SIGTERM (Kubernetes, SageMaker, Vertex AI, ``docker stop``):
1. ``/ready`` (and ``/ping``, the Vertex AI health route) turn 503 at once, so load
   balancers stop sending new requests; requests that still arrive are served;
2. after ``drain_delay_s`` the server waits until the queue is empty and no request is in
   flight, closes its listening socket, answers what connections already open still send
   (``STRAGGLER_S``), and exits, all within ``drain_timeout_s``;
3. work that cannot finish in time is answered JSON 503 ``shutting_down`` with Retry-After
   shortly before the deadline (never a 500 from a cancelled request), and the
   process exits within ``drain_timeout_s`` + 1 s.
SIGINT (Ctrl-C) skips the delay; a second signal stops at once.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys
import time
from types import FrameType

import uvicorn
from fastapi import FastAPI

from ..settings import Settings
from .app import create_app
from .drain import answer_by, answer_unfinished
from .state import Health

log = logging.getLogger(__name__)

#: How long, once the listening sockets are closed, a connection accepted just before may
#: take to send its request before uvicorn closes it.
STRAGGLER_S = 0.5


class DrainingServer(uvicorn.Server):
    def __init__(self, config: uvicorn.Config, app: FastAPI, settings: Settings) -> None:
        super().__init__(config)
        self.app, self.settings = app, settings
        self._loop: asyncio.AbstractEventLoop | None = None
        self._draining = False
        self._drain_task: asyncio.Task[None] | None = None
        self.drained = False  # a signal's drain ran to its end

    async def serve(self, sockets: list[object] | None = None) -> None:  # type: ignore[override]
        self._loop = asyncio.get_running_loop()
        await super().serve(sockets)  # type: ignore[arg-type]

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        if self._draining or self._loop is None:
            super().handle_exit(sig, frame)  # a second signal: uvicorn's own (faster) exit
            return
        self._draining = True
        self._loop.call_soon_threadsafe(self._start_drain, sig)

    def _start_drain(self, sig: int) -> None:
        self._drain_task = asyncio.ensure_future(self._drain(sig))

    async def _drain(self, sig: int) -> None:
        settings, state = self.settings, self.app.state.server
        start = time.monotonic()
        deadline = start + settings.drain_timeout_s
        state.set(Health.DRAINING, f"{signal.Signals(sig).name} received: draining")
        log.info("draining: /ready is 503; finishing queued and in-flight requests")
        self.app.state.drain_deadline = deadline  # the lifespan's shutdown keeps to it too
        if sig == signal.SIGTERM:  # let load balancers see /ready fail
            await asyncio.sleep(min(settings.drain_delay_s, settings.drain_timeout_s))
        await self._wait_idle(until=answer_by(deadline, settings))
        await answer_unfinished(getattr(self.app.state, "engine", None))
        await self._stop_accepting(deadline)
        self.config.timeout_graceful_shutdown = max(0.1, deadline - time.monotonic())  # type: ignore[assignment]
        log.info("drained in %.1f s; closing", time.monotonic() - start)
        self.should_exit = self.drained = True

    def _busy(self) -> bool:
        engine = getattr(self.app.state, "engine", None)
        return self.app.state.metrics.in_flight > 0 or (engine is not None and not engine.idle)

    async def _wait_idle(self, until: float) -> None:
        while time.monotonic() < until and self._busy():
            await asyncio.sleep(0.02)

    async def _stop_accepting(self, deadline: float) -> None:
        """Close the listening sockets, then answer what connections already accepted send.

        uvicorn's own shutdown closes every connection that has not yet sent a whole request
        head, so a client that connected just as the drain ended would lose its request with
        no answer. Here the sockets close first: a new connection is refused, which a client
        or a load balancer can safely retry elsewhere since nothing was sent. Connections
        already accepted get up to ``STRAGGLER_S`` to send their request, which is answered
        (503 ``shutting_down`` once the engine has stopped taking work).
        """
        for listener in self.servers:
            listener.close()
        until = min(time.monotonic() + STRAGGLER_S, deadline)
        # ``cycle``: uvicorn's per-connection request state (httptools and h11 protocols
        # alike), None until a request head has arrived; without it, wait the whole time.
        while time.monotonic() < until and any(
            getattr(connection, "cycle", None) is None
            for connection in self.server_state.connections
        ):
            await asyncio.sleep(0.01)
        await self._wait_idle(until=deadline)


def run_server(settings: Settings, host: str, port: int) -> None:
    app = create_app(settings)
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        log_level=settings.log_level,
        timeout_graceful_shutdown=max(1, int(settings.drain_timeout_s)),
        # uvicorn builds each access-log line's arguments before the logger's level check:
        # below "info" the lines are never shown, so they are not built (2% at the ceiling).
        access_log=settings.log_level in ("debug", "info"),
    )
    server = DrainingServer(config, app, settings)
    server.run()
    if server.drained:
        # Every request is answered and the lifespan has shut down: exit now instead of
        # letting the interpreter tear down the model's native threads (up to a second
        # measured on 2 CPUs), which would break the promise of drain_timeout_s + 1 s.
        logging.shutdown()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)
