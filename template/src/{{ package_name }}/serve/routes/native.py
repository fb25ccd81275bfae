"""The native API: ``POST /v1/predict``."""

from __future__ import annotations

import anyio
from fastapi import APIRouter

from ..deps import Authorized, ReadyState, SettingsDep
from ..errors import ServiceError
from ..schemas import PredictRequest, PredictResponse

router = APIRouter(tags=["native"], dependencies=[Authorized])

# One model call at a time: torch already uses every core, and tokenizers are not re-entrant.
_model_lock = anyio.Lock()


@router.post("/v1/predict", response_model=PredictResponse)
async def predict(
    body: PredictRequest, state: ReadyState, settings: SettingsDep
) -> PredictResponse:
    texts = body.texts
    if len(texts) > settings.max_inputs_per_request:
        raise ServiceError(
            413,
            "too_many_inputs",
            f"{len(texts)} inputs in one request; the limit is {settings.max_inputs_per_request}",
        )
    predictor = state.predictor
    kwargs = {}
    if body.parameters.max_new_tokens is not None:
        if settings.task != "text-generation":
            raise ServiceError(
                422, "invalid_request", "parameters.max_new_tokens applies to text-generation only"
            )
        kwargs["max_new_tokens"] = body.parameters.max_new_tokens
    async with _model_lock:
        await anyio.to_thread.run_sync(predictor.check_lengths, texts)
        outputs = await anyio.to_thread.run_sync(lambda: predictor.predict(texts, **kwargs))
    return PredictResponse(model=settings.served_model_name, task=settings.task, outputs=outputs)
