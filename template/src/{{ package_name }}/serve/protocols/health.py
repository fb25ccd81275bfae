"""Liveness and readiness probes (never behind auth)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from ..deps import StateDep
from ..schemas import HealthResponse

router = APIRouter(tags=["health"])


@router.get("/health", response_model=HealthResponse)
async def health() -> HealthResponse:
    """Liveness: the process is up and serving HTTP."""
    return HealthResponse(status="alive")


@router.get(
    "/ready",
    response_model=HealthResponse,
    responses={
        503: {"model": HealthResponse, "description": "loading, warming, draining or failed"}
    },
)
async def ready(state: StateDep) -> JSONResponse:
    """Readiness: weights loaded, warm-up done and the requested device in use."""
    body = HealthResponse(status=state.health.value, reason=state.reason, device=state.device)
    status = 200 if state.ready else 503
    headers = None if state.ready else {"Retry-After": "5"}
    return JSONResponse(body.model_dump(), status_code=status, headers=headers)
