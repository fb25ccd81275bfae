"""App factory and lifespan: wiring only."""

from __future__ import annotations

import logging
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from starlette.types import ASGIApp, Receive, Scope, Send

from .. import __version__
from ..engine.build import build_engine
from ..runtime.workers import worker_layout
from ..settings import Settings, get_settings
from .client import track
from .drain import finish_engine
from .errors import install_error_handlers
from .hot_routes import HotRoutes
from .inference import install_engine_errors
from .limits import BodySizeLimit
from .loader import load_and_warm
from .metrics import MetricsMiddleware, ServingMetrics
from .openapi import with_model_facts
from .protocols import protocol_routers
from .state import Health, ServerState

log = logging.getLogger(__name__)


class ServingApp(FastAPI):
    """FastAPI with the serving layers in front of its own middleware stack, outermost
    first: metrics (they see every status), the body-size limit, the hot routes."""

    def build_middleware_stack(self) -> ASGIApp:
        app = super().build_middleware_stack()
        settings: Settings = self.state.settings
        if settings.hot_routes:
            routes = [route for router in self.state.routers for route in router.routes]
            app = self.state.hot_routes = HotRoutes(app, self, routes)
        app = BodySizeLimit(app, max_bytes=settings.max_body_bytes)
        return MetricsMiddleware(app, metrics=self.state.metrics)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """HTTP goes straight to the middleware stack unless FastAPI's native telemetry is on.

        ``FastAPI.__call__`` asks OpenTelemetry, on every request, whether a provider is set
        (about 6% of the server's time at its ceiling, docs/benchmarks.md). That answer is
        taken once, when the lifespan starts (``telemetry_checked``): configure OpenTelemetry
        before ``serve`` (``opentelemetry-instrument`` does) and every request is traced."""
        if scope["type"] == "http":
            track(receive)
        if scope["type"] == "http" and self.state.direct_http:
            scope["app"] = self
            if self.root_path:
                scope["root_path"] = self.root_path
            stack = self.middleware_stack
            if stack is None:
                stack = self.middleware_stack = self.build_middleware_stack()
            await stack(scope, receive, send)
            return
        await super().__call__(scope, receive, send)

    def telemetry_checked(self) -> None:
        self.state.direct_http = not self._native_telemetry.enabled()

    def openapi(self) -> dict[str, Any]:
        """FastAPI's document, plus the loaded model's facts (rebuilt until it is loaded)."""
        predictor = self.state.server.predictor
        if self.openapi_schema is None or not getattr(self.state, "openapi_knows_model", False):
            self.openapi_schema = None
            self.openapi_schema = with_model_facts(super().openapi(), predictor)
            self.state.openapi_knows_model = predictor is not None
        return self.openapi_schema


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    logging.basicConfig(level=settings.log_level.upper())
    metrics = ServingMetrics(settings.max_batch_size)

    @asynccontextmanager
    async def lifespan(app: ServingApp) -> AsyncIterator[None]:
        state: ServerState = app.state.server
        layout = worker_layout(settings)
        threads = layout.threads or "the runtime's default"
        log.info("%d model worker(s), %s CPU thread(s) each", layout.workers, threads)
        engine = build_engine(
            settings,
            lambda: state.predictor,
            workers=layout.workers,
            on_batch=metrics.batch_size.observe,
        )
        engine.start()
        app.telemetry_checked()
        metrics.watch_queue(lambda: engine.queued)
        app.state.engine = engine
        # Load in a thread so /health answers (and /ready says 503) while weights load.
        loader = threading.Thread(
            target=load_and_warm, args=(settings, state), name="model-loader", daemon=True
        )
        loader.start()
        yield
        state.set(Health.DRAINING, "shutting down")
        await finish_engine(engine, getattr(app.state, "drain_deadline", None), settings)

    app = ServingApp(title=settings.served_model_name, version=__version__, lifespan=lifespan)
    app.state.direct_http = False  # until the lifespan has asked OpenTelemetry
    app.state.settings = settings
    app.state.server = ServerState()
    app.state.metrics = metrics
    install_error_handlers(app)
    install_engine_errors(app)
    app.state.routers = protocol_routers(settings)
    for router in app.state.routers:
        app.include_router(router)
    return app
