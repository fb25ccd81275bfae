"""Open Inference Protocol v2 tensors: JSON and binary (``binary_tensor_data``) encodings."""

from __future__ import annotations

import math
import struct
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ...engine.items import check_text
from ..generation import GenerationParameters
from ..responses import dumps

HEADER_LENGTH = "Inference-Header-Content-Length"
_PACK = {"FP32": "f", "INT64": "q"}


class TensorInput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    shape: list[int] = Field(..., min_length=1)
    datatype: str
    data: list[Any] | None = None
    parameters: dict[str, Any] = Field(default_factory=dict)


class RequestedOutput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    parameters: dict[str, Any] = Field(default_factory=dict)


class InferRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "inputs": [
                        {"name": "text", "shape": [2], "datatype": "BYTES", "data": ["Hi", "Bye"]}
                    ]
                }
            ]
        },
    )

    id: str | None = None
    inputs: list[TensorInput] = Field(..., min_length=1, max_length=1)
    outputs: list[RequestedOutput] | None = None
    parameters: dict[str, Any] = Field(default_factory=dict)


def output_specs(task: str) -> dict[str, tuple[str, list[int]]]:
    """Name -> (datatype, shape with -1 for variable dimensions) of this task's outputs."""
    if task == "feature-extraction":
        return {"embedding": ("FP32", [-1, -1])}
    if task == "text-classification":
        return {
            "label": ("BYTES", [-1]),
            "label_id": ("INT64", [-1]),
            "score": ("FP32", [-1]),
            "scores": ("FP32", [-1, -1]),
        }
    return {"text": ("BYTES", [-1]), "tokens": ("INT64", [-1])}


def _flatten(data: list[Any]) -> list[Any]:
    flat: list[Any] = []
    for value in data:
        flat.extend(_flatten(value) if isinstance(value, list) else [value])
    return flat


def _unpack_bytes(blob: bytes) -> list[bytes]:
    items, offset = [], 0
    while offset < len(blob):
        if offset + 4 > len(blob):
            raise ValueError(
                "binary BYTES data is truncated (each element is a 4-byte length, then bytes)"
            )
        (length,) = struct.unpack_from("<I", blob, offset)
        items.append(blob[offset + 4 : offset + 4 + length])
        offset += 4 + length
    if offset != len(blob):
        raise ValueError("binary BYTES data is truncated: an element is shorter than its length")
    return items


def decode_inputs(body: InferRequest, binary: bytes, task: str) -> tuple[list[str], dict[str, Any]]:
    """The texts of the one BYTES input, and the model options from ``parameters``."""
    tensor = body.inputs[0]
    if tensor.datatype != "BYTES":
        raise ValueError(
            f"input {tensor.name!r} has datatype {tensor.datatype}; "
            "send the texts as one BYTES tensor"
        )
    if any(dim < 0 for dim in tensor.shape):
        raise ValueError(f"input {tensor.name!r} has a negative dimension in shape {tensor.shape}")
    size = tensor.parameters.get("binary_data_size")
    if size is not None:
        if not isinstance(size, int) or size != len(binary):
            raise ValueError(
                f"binary_data_size is {size!r} but {len(binary)} bytes follow the JSON header"
            )
        raw = _unpack_bytes(binary)
    elif tensor.data is None:
        raise ValueError(f"input {tensor.name!r} has no data (give 'data' or binary_data_size)")
    else:
        values = _flatten(tensor.data)
        if not all(isinstance(v, str) for v in values):
            raise ValueError(f"input {tensor.name!r}: BYTES data must be strings")
        raw = [check_text(v, i).encode() for i, v in enumerate(values)]
    if len(raw) != math.prod(tensor.shape):
        raise ValueError(f"input {tensor.name!r} has shape {tensor.shape} but {len(raw)} elements")
    try:
        texts = [value.decode("utf-8") for value in raw]
    except UnicodeDecodeError:
        raise ValueError(f"input {tensor.name!r} is not valid UTF-8 text") from None
    known = output_specs(task)
    for wanted in body.outputs or []:
        if wanted.name not in known:
            raise ValueError(f"unknown output {wanted.name!r}; this model has {sorted(known)}")
    return texts, generation_options(body.parameters, task)


def generation_options(parameters: dict[str, Any], task: str) -> dict[str, Any]:
    """The generation fields among ``parameters`` (serve/generation.py), checked."""
    asked = {k: v for k, v in parameters.items() if k in GenerationParameters.model_fields}
    if not asked:
        return {}
    if task != "text-generation":
        raise ValueError(f"parameters {', '.join(sorted(asked))}: text-generation only")
    try:
        checked = GenerationParameters.model_validate(asked)
    except ValidationError as exc:
        problems = [f"parameters.{e['loc'][0]}: {e['msg']}" for e in exc.errors() if e["loc"]]
        raise ValueError("; ".join(problems)) from None
    return checked.options(checked.max_new_tokens)


def _tensors(task: str, outputs: list[Any]) -> dict[str, tuple[list[int], list[Any]]]:
    n = len(outputs)
    if task == "feature-extraction":
        dim = len(outputs[0])
        return {"embedding": ([n, dim], [x for row in outputs for x in row])}
    if task == "text-classification":
        labels = list(outputs[0]["scores"])
        ids = {label: i for i, label in enumerate(labels)}
        return {
            "label": ([n], [o["label"] for o in outputs]),
            "label_id": ([n], [ids[o["label"]] for o in outputs]),
            "score": ([n], [o["score"] for o in outputs]),
            "scores": ([n, len(labels)], [o["scores"][label] for o in outputs for label in labels]),
        }
    return {
        "text": ([n], [o["text"] for o in outputs]),
        "tokens": ([n], [o["tokens"] for o in outputs]),
    }


def _pack(datatype: str, data: list[Any]) -> bytes:
    if datatype == "BYTES":
        return b"".join(struct.pack("<I", len(b)) + b for b in (str(v).encode() for v in data))
    return struct.pack(f"<{len(data)}{_PACK[datatype]}", *data)


def encode_response(
    body: InferRequest, name: str, task: str, outputs: list[Any]
) -> tuple[bytes, dict[str, str]]:
    """The response body and headers (binary outputs where the request asked for them)."""
    specs, tensors = output_specs(task), _tensors(task, outputs)
    all_binary = bool(body.parameters.get("binary_data_output", False))
    wanted = body.outputs or [RequestedOutput(name=n) for n in tensors]
    entries, blobs = [], []
    for requested in wanted:
        datatype = specs[requested.name][0]
        shape, data = tensors[requested.name]
        entry: dict[str, Any] = {"name": requested.name, "datatype": datatype, "shape": shape}
        if requested.parameters.get("binary_data", all_binary):
            blob = _pack(datatype, data)
            entry["parameters"] = {"binary_data_size": len(blob)}
            blobs.append(blob)
        else:
            entry["data"] = data
        entries.append(entry)
    header = dumps(
        {"model_name": name, "model_version": "1", "id": body.id or "", "outputs": entries}
    )
    if not blobs:
        return header, {}
    return header + b"".join(blobs), {HEADER_LENGTH: str(len(header))}
