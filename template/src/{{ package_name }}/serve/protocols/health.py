"""Liveness and readiness probes (never behind auth)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from ..deps import StateDep
from ..responses import health_response
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
    return health_response(state)
