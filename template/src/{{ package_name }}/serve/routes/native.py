"""The native API: ``POST /v1/predict``."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from ..deps import Authorized, SettingsDep
from ..errors import ServiceError
from ..hot_routes import hot
from ..inference import EngineDep, Ready, infer
from ..responses import FastJSONResponse
from ..schemas import PredictParameters, PredictRequest, PredictResponse

router = APIRouter(tags=["native"], dependencies=[Authorized, Ready])


def generation_options(parameters: PredictParameters, task: str) -> dict[str, Any]:
    """Per-request model options; requests only share a batch when these are equal."""
    if parameters.max_new_tokens is None:
        return {}
    if task != "text-generation":
        raise ServiceError(
            422, "invalid_request", "parameters.max_new_tokens applies to text-generation only"
        )
    return {"max_new_tokens": parameters.max_new_tokens}


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
