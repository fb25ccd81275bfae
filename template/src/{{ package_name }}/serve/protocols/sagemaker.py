"""SageMaker container contract: ``GET /ping`` and ``POST /invocations``.

SageMaker starts the container as ``docker run IMAGE serve``, sends health checks to
``/ping`` on port 8080 and requests to ``/invocations``. The body is the native one:
``{"inputs": "text" | ["text", ...], "parameters": {...}}``.
"""

from __future__ import annotations

from fastapi import APIRouter

from ..deps import Authorized, SettingsDep, StateDep
from ..hot_routes import hot
from ..inference import EngineDep, Ready, generation_options, infer
from ..responses import FastJSONResponse
from ..schemas import HealthResponse, PredictRequest, PredictResponse

router = APIRouter(tags=["sagemaker"])


@router.get(
    "/ping",
    response_model=HealthResponse,
    responses={503: {"model": HealthResponse, "description": "not ready yet, or draining"}},
)
async def ping(state: StateDep) -> FastJSONResponse:
    """SageMaker health check: 200 only once the model is ready."""
    body = HealthResponse(status=state.health.value, reason=state.reason, device=state.device)
    return FastJSONResponse(body.model_dump(), status_code=200 if state.ready else 503)


@router.post("/invocations", response_model=PredictResponse, dependencies=[Authorized, Ready])
@hot
async def invocations(
    body: PredictRequest, engine: EngineDep, settings: SettingsDep
) -> FastJSONResponse:
    answer = await infer(
        engine, settings, body.texts, generation_options(body.parameters, settings.task)
    )
    return FastJSONResponse(
        {"model": settings.served_model_name, "task": settings.task, "outputs": answer.outputs}
    )
