"""The native API: ``POST /v1/predict``."""

from __future__ import annotations

from fastapi import APIRouter

from ...settings import Settings
from ..deps import Authorized, SettingsDep
from ..hot_routes import hot
from ..inference import EngineDep, Ready, generation_options, infer
from ..responses import FastJSONResponse
from ..schemas import (
    ERROR_RESPONSES,
    GenerationPredictRequest,
    PredictRequest,
    PredictResponse,
)


@hot
async def predict(
    body: PredictRequest, engine: EngineDep, settings: SettingsDep
) -> FastJSONResponse:
    options = generation_options(body.parameters, settings)
    answer = await infer(engine, settings, body.texts, options)
    # A plain FastJSONResponse skips re-validating outputs the model produced (hot path).
    return FastJSONResponse(
        {"model": settings.served_model_name, "task": settings.task, "outputs": answer.outputs}
    )


@hot
async def generate(
    body: GenerationPredictRequest, engine: EngineDep, settings: SettingsDep
) -> FastJSONResponse:
    """text-generation: the same route, with the generation ``parameters`` in its schema."""
    return await predict(body, engine, settings)


def build_router(settings: Settings) -> APIRouter:
    router = APIRouter(tags=["native"], dependencies=[Authorized, Ready])
    endpoint = generate if settings.task == "text-generation" else predict
    router.add_api_route(
        "/v1/predict",
        endpoint,
        methods=["POST"],
        response_model=PredictResponse,
        responses=ERROR_RESPONSES,
        summary="Predict",
    )
    return router
