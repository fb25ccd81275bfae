"""OpenAI-compatible API: ``/v1/models``, ``/v1/embeddings`` (feature-extraction),
``/v1/completions`` and ``/v1/chat/completions`` with SSE streaming (text-generation)."""

from __future__ import annotations

import asyncio
import base64
import json
import struct
import time
import uuid
from collections.abc import AsyncIterator, Callable, Hashable
from typing import Any

from fastapi import APIRouter
from fastapi.responses import StreamingResponse

from ...engine.batcher import Answer, Item
from ...settings import Settings
from ..deps import Authorized, ReadyState, SettingsDep
from ..errors import ServiceError
from ..hot_routes import hot
from ..inference import EngineDep, Ready, check_inputs, infer
from ..responses import FastJSONResponse
from ..schemas import ERROR_RESPONSES
from .openai_schemas import (
    ChatRequest,
    CompletionRequest,
    EmbeddingsRequest,
    EmbeddingsResponse,
    ModelCard,
    ModelList,
    StreamOptions,
)

STARTED = int(time.time())


def _check_model(name: str, settings: Settings) -> None:
    if name not in {settings.served_model_name, settings.model_id}:
        raise ServiceError(
            404,
            "model_not_found",
            f"model {name!r} is not served here; use {settings.served_model_name!r}",
        )


def router_for(task: str) -> APIRouter:
    router = APIRouter(tags=["openai"], dependencies=[Authorized])
    auth: dict[int | str, dict[str, Any]] = {401: ERROR_RESPONSES[401]}
    router.add_api_route(
        "/v1/models", list_models, methods=["GET"], response_model=ModelList, responses=auth
    )
    router.add_api_route(
        "/v1/models/{model:path}",
        retrieve_model,
        methods=["GET"],
        response_model=ModelCard,
        responses={**auth, 404: ERROR_RESPONSES[404]},
    )
    if task == "feature-extraction":
        router.add_api_route(
            "/v1/embeddings",
            embeddings,
            methods=["POST"],
            response_model=EmbeddingsResponse,
            responses=ERROR_RESPONSES,
            dependencies=[Ready],
        )
    if task == "text-generation":
        extra: dict[str, Any] = {
            "response_model": None,  # JSON, or server-sent events with stream=true
            "dependencies": [Ready],
            "responses": {200: {"content": {"text/event-stream": {}}}, **ERROR_RESPONSES},
        }
        router.add_api_route("/v1/completions", completions, methods=["POST"], **extra)
        router.add_api_route("/v1/chat/completions", chat_completions, methods=["POST"], **extra)
    return router


def _card(settings: Settings) -> dict[str, Any]:
    return {
        "id": settings.served_model_name,
        "object": "model",
        "created": STARTED,
        "owned_by": "owner",
    }


async def list_models(settings: SettingsDep) -> dict[str, Any]:
    return {"object": "list", "data": [_card(settings)]}


async def retrieve_model(model: str, settings: SettingsDep) -> dict[str, Any]:
    _check_model(model, settings)
    return _card(settings)


def _embedding_items(value: str | list[str] | list[int] | list[list[int]]) -> list[Item]:
    if isinstance(value, str):
        return [value]
    if value and all(isinstance(v, int) for v in value):
        return [list(value)]  # type: ignore[arg-type]
    return list(value)  # type: ignore[arg-type]


def _b64(vector: list[float]) -> str:
    return base64.b64encode(struct.pack(f"<{len(vector)}f", *vector)).decode()


@hot
async def embeddings(
    body: EmbeddingsRequest, engine: EngineDep, settings: SettingsDep
) -> FastJSONResponse:
    _check_model(body.model, settings)
    answer = await infer(engine, settings, _embedding_items(body.input))
    dim = len(answer.outputs[0])
    if body.dimensions is not None and body.dimensions != dim:
        raise ServiceError(
            422,
            "invalid_request",
            f"dimensions must be {dim} for this model (got {body.dimensions})",
        )
    encode: Callable[[list[float]], Any] = _b64 if body.encoding_format == "base64" else list
    data = [
        {"object": "embedding", "index": i, "embedding": encode(v)}
        for i, v in enumerate(answer.outputs)
    ]
    tokens = sum(answer.tokens)
    usage = {"prompt_tokens": tokens, "total_tokens": tokens}
    return FastJSONResponse(
        {"object": "list", "data": data, "model": settings.served_model_name, "usage": usage}
    )


def chat_prompt(tokenizer: Any, messages: list[dict[str, str]]) -> str:
    """The prompt of a conversation: the tokenizer's chat template where it has one (instruct
    models do), else a plain transcript, one ``role: content`` line per message, ending
    with ``assistant:`` (base models such as GPT-2 have no template)."""
    if getattr(tokenizer, "chat_template", None):
        return str(
            tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
        )
    lines = [f"{m['role']}: {m['content']}" for m in messages]
    return "\n".join([*lines, "assistant:"])


async def completions(
    body: CompletionRequest, engine: EngineDep, settings: SettingsDep
) -> FastJSONResponse | StreamingResponse:
    _check_model(body.model, settings)
    prompts = [body.prompt] if isinstance(body.prompt, str) else body.prompt
    options = body.options(body.max_tokens or settings.max_new_tokens)
    shape = _Shape(False, settings.served_model_name, _usage_in_stream(body.stream_options))
    return await _generate(engine, settings, prompts, options, body.stream, shape)


async def chat_completions(
    body: ChatRequest, engine: EngineDep, settings: SettingsDep, state: ReadyState
) -> FastJSONResponse | StreamingResponse:
    _check_model(body.model, settings)
    prompt = chat_prompt(state.predictor.tokenizer, [m.model_dump() for m in body.messages])
    max_tokens = body.max_completion_tokens or body.max_tokens or settings.max_new_tokens
    shape = _Shape(True, settings.served_model_name, _usage_in_stream(body.stream_options))
    return await _generate(engine, settings, [prompt], body.options(max_tokens), body.stream, shape)


def _usage_in_stream(options: StreamOptions | None) -> bool:
    return options is not None and options.include_usage


def _usage(answer: Answer) -> dict[str, int]:
    prompt_tokens = sum(answer.tokens)
    completion_tokens = sum(o["tokens"] for o in answer.outputs)
    return {
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "total_tokens": prompt_tokens + completion_tokens,
    }


async def _generate(
    engine: EngineDep,
    settings: Settings,
    prompts: list[str],
    options: dict[str, Hashable],
    stream: bool,
    shape: _Shape,
) -> FastJSONResponse | StreamingResponse:
    if not stream:
        answer = await infer(engine, settings, prompts, options)
        choices = [
            shape.choice(i, o["text"], o["finish_reason"]) for i, o in enumerate(answer.outputs)
        ]
        return FastJSONResponse(shape.body(choices, usage=_usage(answer)))
    prompts = [str(p) for p in check_inputs(prompts, settings, engine)]
    deltas: asyncio.Queue[tuple[int, str]] = asyncio.Queue()
    ticket = engine.enqueue(  # queue full -> 503 now, before the stream starts
        prompts,
        timeout_s=settings.request_timeout_s,
        options=options,
        on_token=lambda index, text: deltas.put_nowait((index, text)),
    )
    return StreamingResponse(_events(ticket.wait(), deltas, shape), media_type="text/event-stream")


async def _events(
    result: Any, deltas: asyncio.Queue[tuple[int, str]], shape: _Shape
) -> AsyncIterator[str]:
    task = asyncio.ensure_future(result)
    try:
        if shape.chat:
            yield shape.sse([shape.chunk(0, None, role=True)])
        while True:
            getter = asyncio.ensure_future(deltas.get())
            await asyncio.wait({getter, task}, return_when=asyncio.FIRST_COMPLETED)
            if not getter.done():
                getter.cancel()
                break
            index, text = getter.result()
            yield shape.sse([shape.chunk(index, text)])
        while not deltas.empty():
            index, text = deltas.get_nowait()
            yield shape.sse([shape.chunk(index, text)])
        try:
            answer = task.result()
        except Exception as exc:  # the status line is sent: report in-stream
            error = {"error": {"type": "generation_failed", "message": str(exc)}}
            yield f"data: {json.dumps(error)}\n\n"
            return
        finals = [
            shape.chunk(i, None, finish=o["finish_reason"]) for i, o in enumerate(answer.outputs)
        ]
        yield shape.sse(finals)
        if shape.usage_in_stream:  # OpenAI's stream_options.include_usage: no choices, usage
            yield f"data: {json.dumps(shape.body([], usage=_usage(answer), stream=True))}\n\n"
        yield "data: [DONE]\n\n"
    finally:
        task.cancel()


class _Shape:
    """The JSON shapes of text completions and chat completions."""

    def __init__(self, chat: bool, model: str, usage_in_stream: bool = False) -> None:
        self.chat, self.model, self.usage_in_stream = chat, model, usage_in_stream
        self.id = f"{'chatcmpl' if chat else 'cmpl'}-{uuid.uuid4().hex}"
        self.created = int(time.time())

    def choice(self, index: int, text: str, finish: str | None) -> dict[str, Any]:
        if self.chat:
            return {
                "index": index,
                "message": {"role": "assistant", "content": text},
                "finish_reason": finish,
            }
        return {"index": index, "text": text, "finish_reason": finish, "logprobs": None}

    def chunk(
        self, index: int, text: str | None, finish: str | None = None, role: bool = False
    ) -> dict[str, Any]:
        if self.chat:
            delta: dict[str, Any] = {"role": "assistant"} if role else {}
            if text is not None:
                delta["content"] = text
            return {"index": index, "delta": delta, "finish_reason": finish}
        return {"index": index, "text": text or "", "finish_reason": finish, "logprobs": None}

    def body(
        self,
        choices: list[dict[str, Any]],
        usage: dict[str, int] | None = None,
        stream: bool = False,
    ) -> dict[str, Any]:
        kind = ("chat.completion" if self.chat else "text_completion") + (
            ".chunk" if stream and self.chat else ""
        )
        out: dict[str, Any] = {
            "id": self.id,
            "object": kind,
            "created": self.created,
            "model": self.model,
            "choices": choices,
        }
        if usage is not None:
            out["usage"] = usage
        return out

    def sse(self, choices: list[dict[str, Any]]) -> str:
        return f"data: {json.dumps(self.body(choices, stream=True))}\n\n"
