"""Request and response models of the OpenAI-compatible API (the fields we honour).

Generation requests take the sampling fields of ``serve/generation.py``; fields that would
change the answer and are not implemented (``logprobs``, ``logit_bias``, ``tools``, ...) are
refused with a 422 that names them; other unknown fields (``user``, ...) are ignored.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.json_schema import SkipJsonSchema

from ..fields import Text, TokenIds
from ..generation import MAX_NEW_TOKENS, OpenAISampling


class Usage(BaseModel):
    prompt_tokens: int
    total_tokens: int
    completion_tokens: int | None = None


class EmbeddingsRequest(BaseModel):
    model_config = ConfigDict(
        extra="ignore",
        json_schema_extra={"examples": [{"model": "all-MiniLM-L6-v2", "input": ["Hello"]}]},
    )

    model: str = Field(..., description="The served model's name (GET /v1/models)")
    input: (
        Text
        | Annotated[list[Text], Field(json_schema_extra={"minItems": 1})]
        | TokenIds
        | Annotated[list[TokenIds], Field(min_length=1)]
    ) = Field(..., description="A text, a list of texts, token ids, or a list of token-id lists")
    encoding_format: Literal["float", "base64"] = "float"
    # OpenAI's field, accepted only when it equals the model's dimension: not in the schema,
    # which cannot say that number before the model is loaded.
    dimensions: SkipJsonSchema[int | None] = Field(None, ge=1)


class Embedding(BaseModel):
    object: Literal["embedding"] = "embedding"
    index: int
    embedding: list[float] | str = Field(..., description="floats, or base64 of float32 LE")


class EmbeddingsResponse(BaseModel):
    object: Literal["list"] = "list"
    data: list[Embedding]
    model: str
    usage: Usage


class StreamOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    include_usage: bool = Field(
        False, strict=True, description="a last chunk with the token counts"
    )


class CompletionRequest(OpenAISampling):
    model_config = ConfigDict(
        extra="ignore",
        json_schema_extra={
            "examples": [{"model": "gpt2", "prompt": "Hello", "max_tokens": 8, "temperature": 0}]
        },
    )

    model: str
    prompt: Text | Annotated[list[Text], Field(json_schema_extra={"minItems": 1})] = Field(
        ..., description="A text or a list of texts"
    )
    max_tokens: int | None = Field(None, ge=1, le=MAX_NEW_TOKENS)
    stream: bool = Field(False, strict=True)
    stream_options: StreamOptions | None = None
    n: int = Field(1, ge=1, le=1, description="Only one choice per prompt")


class ChatMessage(BaseModel):
    model_config = ConfigDict(extra="ignore")

    role: Literal["system", "user", "assistant", "tool", "developer"]
    content: str


class ChatRequest(OpenAISampling):
    model_config = ConfigDict(
        extra="ignore",
        json_schema_extra={
            "examples": [{"model": "gpt2", "messages": [{"role": "user", "content": "Hi"}]}]
        },
    )

    model: str
    messages: list[ChatMessage] = Field(..., min_length=1)
    max_tokens: int | None = Field(None, ge=1, le=MAX_NEW_TOKENS)
    max_completion_tokens: int | None = Field(None, ge=1, le=MAX_NEW_TOKENS)
    stream: bool = Field(False, strict=True)
    stream_options: StreamOptions | None = None
    n: int = Field(1, ge=1, le=1, description="Only one choice")


class ModelCard(BaseModel):
    id: str
    object: Literal["model"] = "model"
    created: int
    owned_by: str


class ModelList(BaseModel):
    object: Literal["list"] = "list"
    data: list[ModelCard]
