"""The native API: ``POST /v1/predict``."""

from __future__ import annotations

from fastapi import APIRouter

from ..deps import Authorized, SettingsDep
from ..hot_routes import hot
from ..inference import EngineDep, Ready, generation_options, infer
from ..responses import FastJSONResponse
from ..schemas import PredictRequest, PredictResponse

router = APIRouter(tags=["native"], dependencies=[Authorized, Ready])


@router.post("/v1/predict", response_model=PredictResponse)
@hot
async def predict(
    body: PredictRequest, engine: EngineDep, settings: SettingsDep
) -> FastJSONResponse:
    options = generation_options(body.parameters, settings.task)
    answer = await infer(engine, settings, body.texts, options)
    # A plain FastJSONResponse skips re-validating outputs the model produced (hot path).
    return FastJSONResponse(
        {"model": settings.served_model_name, "task": settings.task, "outputs": answer.outputs}
    )
