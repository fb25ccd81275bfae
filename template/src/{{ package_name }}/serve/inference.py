"""What every protocol route shares: the engine dependency, input limits and error mapping."""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Request
from fastapi.responses import JSONResponse

from ..engine.batcher import (
    Answer,
    Batcher,
    ClientGoneError,
    DeadlineExceededError,
    EngineStoppedError,
    InvalidItemError,
    Item,
    QueueFullError,
    TokenCallback,
)
from ..engine.errors import ItemFailedError
from ..engine.items import prepare
from ..settings import Settings
from .client import client_gone
from .deps import require_ready
from .errors import ServiceError, error_response
from .generation import GenerationParameters, NoParameters


async def get_engine(request: Request) -> Batcher:
    engine: Batcher | None = getattr(request.app.state, "engine", None)
    if engine is None:
        raise ServiceError(
            503, "not_ready", "the serving engine is not running yet", {"Retry-After": "5"}
        )
    return engine


EngineDep = Annotated[Batcher, Depends(get_engine)]
Ready = Depends(require_ready)


def check_inputs(items: Sequence[Item], settings: Settings, engine: Batcher) -> list[Item]:
    """413 for too many inputs, 422 for none, an empty one or one the model cannot take
    (engine/items.py); returns the inputs as the texts to queue."""
    if not items:
        raise ServiceError(422, "invalid_request", "no inputs: send at least one text")
    if len(items) > settings.max_inputs_per_request:
        raise ServiceError(
            413,
            "too_many_inputs",
            f"{len(items)} inputs in one request; the limit is {settings.max_inputs_per_request} "
            "(split them across several requests)",
        )
    for index, item in enumerate(items):
        if isinstance(item, str) and not item.strip():
            raise ServiceError(422, "invalid_request", f"input {index} is empty or only whitespace")
        if not isinstance(item, str) and not item:
            raise ServiceError(422, "invalid_request", f"input {index} has no token ids")
    predictor = engine.predictor
    return prepare(predictor, items) if predictor is not None else list(items)


async def infer(
    engine: Batcher,
    settings: Settings,
    items: Sequence[Item],
    options: Mapping[str, Hashable] | None = None,
    on_token: TokenCallback | None = None,
) -> Answer:
    """Check the limits, then run ``items`` through the batcher."""
    items = check_inputs(items, settings, engine)
    return await engine.submit(
        items,
        timeout_s=settings.request_timeout_s,
        options=options,
        on_token=on_token,
        client_gone=client_gone(),
    )


def install_engine_errors(app: FastAPI) -> None:
    """Map the engine's errors to HTTP: overload 503, deadline 504, bad input 422, an input
    the model failed on 500, a client that left 499 (JSON, like every error)."""

    @app.exception_handler(QueueFullError)
    async def _full(request: Request, exc: QueueFullError) -> JSONResponse:
        return error_response(request.url.path, 503, "overloaded", str(exc), {"Retry-After": "1"})

    @app.exception_handler(EngineStoppedError)
    async def _stopped(request: Request, exc: EngineStoppedError) -> JSONResponse:
        retry = {"Retry-After": "5"}
        return error_response(request.url.path, 503, "shutting_down", str(exc), retry)

    @app.exception_handler(ClientGoneError)
    async def _gone(request: Request, exc: ClientGoneError) -> JSONResponse:
        # Nobody reads it (uvicorn drops it); 499, nginx's "client closed request", is what
        # the metrics count.
        return error_response(request.url.path, 499, "client_closed_request", str(exc))

    @app.exception_handler(DeadlineExceededError)
    async def _late(request: Request, exc: DeadlineExceededError) -> JSONResponse:
        return error_response(request.url.path, 504, "deadline_exceeded", str(exc))

    @app.exception_handler(InvalidItemError)
    async def _invalid(request: Request, exc: InvalidItemError) -> JSONResponse:
        return error_response(request.url.path, 422, "invalid_request", str(exc))

    @app.exception_handler(ItemFailedError)
    async def _item_failed(request: Request, exc: ItemFailedError) -> JSONResponse:
        return error_response(request.url.path, 500, "model_error", str(exc))


def generation_options(
    parameters: NoParameters | GenerationParameters, settings: Settings
) -> dict[str, Any]:
    """Per-request model options; requests only share a batch when these are equal. Encoders
    take none (their ``parameters`` schema accepts no field)."""
    if not isinstance(parameters, GenerationParameters):
        return {}
    return parameters.options(parameters.max_new_tokens or settings.max_new_tokens)
