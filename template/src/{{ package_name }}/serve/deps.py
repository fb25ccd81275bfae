"""Typed FastAPI dependencies shared by the routes.

Every one is ``async def``: FastAPI runs a plain ``def`` dependency in a thread pool, and
these never block, so a thread hop per dependency per request would only cost time.
"""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import Depends, Request

from ..config import Settings
from .errors import ServiceError
from .state import Health, ServerState


async def get_settings_dep(request: Request) -> Settings:
    return request.app.state.settings  # type: ignore[no-any-return]


async def get_state(request: Request) -> ServerState:
    return request.app.state.server  # type: ignore[no-any-return]


SettingsDep = Annotated[Settings, Depends(get_settings_dep)]
StateDep = Annotated[ServerState, Depends(get_state)]


async def require_token(request: Request, settings: SettingsDep) -> None:
    """Bearer-token check for inference routes (health routes never depend on it)."""
    if not settings.require_auth:
        return
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    expected = settings.api_token.get_secret_value() if settings.api_token else ""
    if scheme.lower() != "bearer" or not token:
        raise ServiceError(
            401,
            "unauthorized",
            "missing bearer token: send 'Authorization: Bearer <token>'",
            {"WWW-Authenticate": "Bearer"},
        )
    if not secrets.compare_digest(token.encode(), expected.encode()):
        raise ServiceError(
            401, "unauthorized", "invalid bearer token", {"WWW-Authenticate": "Bearer"}
        )


async def require_ready(state: StateDep) -> ServerState:
    # While draining (SIGTERM) /ready says 503 but requests that still arrive are served.
    if state.predictor is None or state.health not in (Health.READY, Health.DRAINING):
        raise ServiceError(
            503, "not_ready", f"model is not ready: {state.reason}", {"Retry-After": "5"}
        )
    return state


Authorized = Depends(require_token)
ReadyState = Annotated[ServerState, Depends(require_ready)]
