"""SageMaker container contract: ``GET /ping`` and ``POST /invocations``.

SageMaker starts the container as ``docker run IMAGE serve``, sends health checks to
``/ping`` on port 8080 and requests to ``/invocations``. The body is the native one:
``{"inputs": "text" | ["text", ...], "parameters": {...}}``.
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from ...settings import Settings
from ..deps import Authorized, SettingsDep, StateDep
from ..hot_routes import hot
from ..inference import EngineDep, Ready, generation_options, infer
from ..responses import FastJSONResponse, health_response
from ..schemas import (
    ERROR_RESPONSES,
    GenerationPredictRequest,
    HealthResponse,
    PredictRequest,
    PredictResponse,
)


async def ping(state: StateDep) -> JSONResponse:
    """SageMaker health check: 200 only once the model is ready."""
    return health_response(state)


@hot
async def invocations(
    body: PredictRequest, engine: EngineDep, settings: SettingsDep
) -> FastJSONResponse:
    answer = await infer(
        engine, settings, body.texts, generation_options(body.parameters, settings)
    )
    return FastJSONResponse(
        {"model": settings.served_model_name, "task": settings.task, "outputs": answer.outputs}
    )


@hot
async def generation_invocations(
    body: GenerationPredictRequest, engine: EngineDep, settings: SettingsDep
) -> FastJSONResponse:
    """text-generation: the generation ``parameters`` in the schema too."""
    return await invocations(body, engine, settings)


def build_router(settings: Settings) -> APIRouter:
    router = APIRouter(tags=["sagemaker"])
    router.add_api_route(
        "/ping",
        ping,
        methods=["GET"],
        response_model=HealthResponse,
        responses={503: {"model": HealthResponse, "description": "not ready yet, or draining"}},
    )
    endpoint = generation_invocations if settings.task == "text-generation" else invocations
    router.add_api_route(
        "/invocations",
        endpoint,
        methods=["POST"],
        response_model=PredictResponse,
        responses=ERROR_RESPONSES,
        dependencies=[Authorized, Ready],
        summary="Invocations",
    )
    return router
