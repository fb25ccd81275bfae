"""Route modules; each exposes ``router``, or ``build_router(settings)`` when its routes
depend on the settings (the task's request model, Vertex AI's paths)."""

from __future__ import annotations

from fastapi import APIRouter

from ...settings import Settings


def protocol_routers(settings: Settings) -> list[APIRouter]:
    """Every protocol the task allows, in matching order (Vertex's configurable paths first)."""
    from . import health, metrics, native, oip, openai, sagemaker, vertex

    routers = [vertex.build_router(settings), health.router, metrics.router]
    routers += [native.build_router(settings), openai.router_for(settings.task)]
    routers += [oip.router, sagemaker.build_router(settings)]
    return routers
