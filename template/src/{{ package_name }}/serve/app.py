"""App factory and lifespan: wiring only."""

from __future__ import annotations

import logging
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from .. import __version__
from ..config import Settings, get_settings
from .errors import install_error_handlers
from .limits import BodySizeLimit
from .loader import load_and_warm
from .routes import health, native
from .state import Health, ServerState


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    logging.basicConfig(level=settings.log_level.upper())

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Load in a thread so /health answers (and /ready says 503) while weights load.
        loader = threading.Thread(
            target=load_and_warm,
            args=(settings, app.state.server),
            name="model-loader",
            daemon=True,
        )
        loader.start()
        yield
        app.state.server.set(Health.DRAINING, "shutting down")

    app = FastAPI(title=settings.served_model_name, version=__version__, lifespan=lifespan)
    app.state.settings = settings
    app.state.server = ServerState()
    install_error_handlers(app)
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    app.include_router(health.router)
    app.include_router(native.router)
    return app
