"""Open Inference Protocol v2 (KServe / Triton REST), with the binary tensor extension.

The model takes one ``BYTES`` input of shape ``[N]`` (any name; ``text`` by convention)
and returns, per task:
- feature-extraction: ``embedding`` FP32 ``[N, dim]``;
- text-classification: ``label`` BYTES ``[N]``, ``label_id`` INT64 ``[N]``, ``score`` FP32
  ``[N]``, ``scores`` FP32 ``[N, labels]``;
- text-generation: ``text`` BYTES ``[N]``, ``tokens`` INT64 ``[N]``.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from pydantic import ValidationError

from ... import __version__
from ..deps import Authorized, SettingsDep, StateDep
from ..errors import ServiceError
from ..inference import EngineDep, Ready, infer
from ..schemas import ERROR_RESPONSES
from .oip_codec import (
    HEADER_LENGTH,
    InferRequest,
    decode_inputs,
    encode_response,
    output_specs,
)

router = APIRouter(tags=["open-inference-protocol"])
authorized = APIRouter(tags=["open-inference-protocol"], dependencies=[Authorized])


@router.get("/v2/health/live")
async def live() -> dict[str, bool]:
    return {"live": True}


@router.get("/v2/health/ready", responses={400: {"description": "not ready (OIP: any 4xx)"}})
async def server_ready(state: StateDep) -> JSONResponse:
    """200 when ready; the protocol reports 'not ready' with a 4xx status."""
    return JSONResponse({"ready": state.ready}, status_code=200 if state.ready else 400)


def _check_name(name: str, settings: SettingsDep) -> None:
    if name != settings.served_model_name:
        raise ServiceError(
            404,
            "model_not_found",
            f"unknown model {name!r}; this server has {settings.served_model_name!r}",
        )


@router.get(
    "/v2/models/{name}/ready",
    responses={400: {"description": "not ready"}, 404: {"description": "unknown model"}},
)
async def model_ready(name: str, state: StateDep, settings: SettingsDep) -> JSONResponse:
    _check_name(name, settings)
    return JSONResponse(
        {"name": name, "ready": state.ready}, status_code=200 if state.ready else 400
    )


@authorized.get("/v2", responses={401: ERROR_RESPONSES[401]})
async def server_metadata(settings: SettingsDep) -> dict[str, Any]:
    return {
        "name": settings.served_model_name,
        "version": __version__,
        "extensions": ["binary_tensor_data"],
    }


@authorized.get(
    "/v2/models/{name}", responses={401: ERROR_RESPONSES[401], 404: ERROR_RESPONSES[404]}
)
async def model_metadata(name: str, settings: SettingsDep) -> dict[str, Any]:
    _check_name(name, settings)
    outputs = [
        {"name": n, "datatype": d, "shape": s} for n, (d, s) in output_specs(settings.task).items()
    ]
    return {
        "name": name,
        "versions": ["1"],
        "platform": settings.runtime,
        "inputs": [{"name": "text", "datatype": "BYTES", "shape": [-1]}],
        "outputs": outputs,
    }


def _inlined(schema: Any, defs: dict[str, Any]) -> Any:
    """``schema`` with its ``$ref``s to ``$defs`` replaced by the definitions themselves:
    the route's schema lives outside ``components``, where such a reference would dangle."""
    if isinstance(schema, dict):
        ref = schema.get("$ref", "")
        if ref.startswith("#/$defs/"):
            return _inlined(defs[ref.removeprefix("#/$defs/")], defs)
        return {k: _inlined(v, defs) for k, v in schema.items() if k != "$defs"}
    if isinstance(schema, list):
        return [_inlined(item, defs) for item in schema]
    return schema


_INFER_SCHEMA = InferRequest.model_json_schema()
_INFER_DOC = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": _inlined(_INFER_SCHEMA, _INFER_SCHEMA["$defs"])},
            # binary tensors: a JSON header (its length in Inference-Header-Content-Length)
            "application/octet-stream": {"schema": {"type": "string", "format": "binary"}},
        },
    }
}


@authorized.post(
    "/v2/models/{name}/infer",
    openapi_extra=_INFER_DOC,
    dependencies=[Ready],
    responses=ERROR_RESPONSES,
)
async def model_infer(
    name: str, request: Request, engine: EngineDep, settings: SettingsDep
) -> Response:
    """Inference: JSON, or the binary tensor extension (header length in a request header)."""
    _check_name(name, settings)
    raw = await request.body()
    header_length = request.headers.get(HEADER_LENGTH)
    try:
        split = int(header_length) if header_length is not None else len(raw)
        if not 0 <= split <= len(raw):
            raise ValueError(f"{HEADER_LENGTH} is {split} but the body has {len(raw)} bytes")
        # json.loads keeps a lone surrogate ("\ud800") as text, so that the input check
        # names it (engine/items.py), where pydantic's JSON parser only says "invalid JSON".
        body = InferRequest.model_validate(json.loads(raw[:split]))
        texts, options = decode_inputs(body, raw[split:], settings.task)
    except ValidationError as exc:
        messages = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise ServiceError(
            422, "invalid_request", messages or "the body is not an inference request"
        ) from None
    except (ValueError, json.JSONDecodeError) as exc:
        raise ServiceError(422, "invalid_request", str(exc)) from None
    answer = await infer(engine, settings, texts, options)
    content, headers = encode_response(body, name, settings.task, answer.outputs)
    media = "application/octet-stream" if HEADER_LENGTH in headers else "application/json"
    return Response(content, media_type=media, headers=headers)


router.include_router(authorized)
