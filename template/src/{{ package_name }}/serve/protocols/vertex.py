"""Vertex AI custom container contract.

Vertex AI sets ``AIP_HTTP_PORT`` (the port to listen on), ``AIP_HEALTH_ROUTE`` (200 once
the model is ready) and ``AIP_PREDICT_ROUTE`` (``{"instances": [...]}`` in,
``{"predictions": [...]}`` out). The routes are built from Settings, which reads them.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from ...settings import Settings
from ..deps import Authorized, SettingsDep, StateDep
from ..errors import ServiceError
from ..fields import Text
from ..generation import GenerationParameters, NoParameters
from ..hot_routes import hot
from ..inference import EngineDep, Ready, generation_options, infer
from ..responses import FastJSONResponse, health_response
from ..schemas import ERROR_RESPONSES, HealthResponse


class TextInstance(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: Text


class VertexRequest(BaseModel):
    """Each instance is a string or ``{"text": "..."}``."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"instances": ["The food was great.", {"text": "Hi"}]}]},
    )
    instances: list[Text | TextInstance] = Field(
        ..., json_schema_extra={"minItems": 1}, description="Texts to run through the model"
    )
    parameters: NoParameters = Field(default_factory=NoParameters)


class GenerationVertexRequest(VertexRequest):
    """text-generation: the generation ``parameters`` too."""

    parameters: GenerationParameters = Field(default_factory=GenerationParameters)


class VertexResponse(BaseModel):
    predictions: list[Any]
    deployedModelId: str = ""  # Vertex AI's field name


async def health(state: StateDep) -> JSONResponse:
    return health_response(state)


@hot
async def predict(
    body: VertexRequest, engine: EngineDep, settings: SettingsDep
) -> FastJSONResponse:
    texts = [i if isinstance(i, str) else i.text for i in body.instances]
    if not texts:
        raise ServiceError(422, "invalid_request", "instances is empty: send at least one")
    options = generation_options(body.parameters, settings)
    answer = await infer(engine, settings, texts, options)
    return FastJSONResponse({"predictions": answer.outputs})


@hot
async def generate(
    body: GenerationVertexRequest, engine: EngineDep, settings: SettingsDep
) -> FastJSONResponse:
    """text-generation: the generation ``parameters`` in the schema too."""
    return await predict(body, engine, settings)


def build_router(settings: Settings) -> APIRouter:
    router = APIRouter(tags=["vertex"])
    router.add_api_route(
        settings.aip_health_route,
        health,
        methods=["GET"],
        response_model=HealthResponse,
        responses={503: {"model": HealthResponse, "description": "not ready yet, or draining"}},
        summary="Vertex AI health check",
    )
    router.add_api_route(
        settings.aip_predict_route,
        generate if settings.task == "text-generation" else predict,
        methods=["POST"],
        response_model=VertexResponse,
        responses=ERROR_RESPONSES,
        dependencies=[Authorized, Ready],
        summary="Vertex AI prediction",
    )
    return router
