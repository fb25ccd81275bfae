"""Route modules; each exposes ``router`` (Vertex AI's is built from Settings)."""

from __future__ import annotations

from fastapi import APIRouter

from ...settings import Settings


def protocol_routers(settings: Settings) -> list[APIRouter]:
    """Every protocol the task allows, in matching order (Vertex's configurable paths first)."""
    from . import health, metrics, native, oip, openai, sagemaker, vertex

    routers = [vertex.build_router(settings), health.router, metrics.router, native.router]
    routers.append(openai.router_for(settings.task))
    routers += [oip.router, sagemaker.router]
    return routers
