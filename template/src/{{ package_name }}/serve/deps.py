"""Typed FastAPI dependencies shared by the routes.

Every one is ``async def``: FastAPI runs a plain ``def`` dependency in a thread pool, and
these never block, so a thread hop per dependency per request would only cost time.
"""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import Depends, Request

from ..settings import Settings
from .errors import ServiceError
from .state import ServerState


async def get_settings_dep(request: Request) -> Settings:
    return request.app.state.settings  # type: ignore[no-any-return]


async def get_state(request: Request) -> ServerState:
    return request.app.state.server  # type: ignore[no-any-return]


SettingsDep = Annotated[Settings, Depends(get_settings_dep)]
StateDep = Annotated[ServerState, Depends(get_state)]


def token_problem(header: str, settings: Settings) -> str | None:
    """Why an ``Authorization`` header is refused; None when it is accepted (or auth is off)."""
    if not settings.require_auth:
        return None
    scheme, _, token = header.partition(" ")
    expected = settings.api_token.get_secret_value() if settings.api_token else ""
    if scheme.lower() != "bearer" or not token:
        return "missing bearer token: send 'Authorization: Bearer <token>'"
    if not secrets.compare_digest(token.encode(), expected.encode()):
        return "invalid bearer token"
    return None


async def require_token(request: Request, settings: SettingsDep) -> None:
    """Bearer-token check for inference routes (health routes never depend on it)."""
    problem = token_problem(request.headers.get("authorization", ""), settings)
    if problem is not None:
        raise ServiceError(401, "unauthorized", problem, {"WWW-Authenticate": "Bearer"})


async def require_ready(state: StateDep) -> ServerState:
    if not state.accepting:
        raise ServiceError(
            503, "not_ready", f"model is not ready: {state.reason}", {"Retry-After": "5"}
        )
    return state


Authorized = Depends(require_token)
ReadyState = Annotated[ServerState, Depends(require_ready)]
