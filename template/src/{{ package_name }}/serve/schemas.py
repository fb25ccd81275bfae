"""Request and response models of the native API (``POST /v1/predict``)."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from .fields import Text
from .generation import GenerationParameters, NoParameters

#: The error answers every inference route may give, for the OpenAPI document.
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: {"description": "the body is not JSON"},
    401: {"description": "missing or wrong bearer token (when auth is on)"},
    404: {"description": "unknown model name"},
    413: {"description": "body or number of inputs over the limit"},
    422: {
        "description": "an input the model cannot take (the message names its index), or a "
        "parameter out of range or not supported (the message names it)"
    },
    500: {"description": "the model failed on this request's input (JSON error)"},
    503: {"description": "loading, overloaded or shutting down; see Retry-After"},
    504: {"description": "no answer within the request deadline"},
}


class PredictRequest(BaseModel):
    """``inputs`` is one string or a list of strings."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"inputs": ["The food was great.", "Stocks fell."]}]},
    )

    inputs: Text | Annotated[list[Text], Field(json_schema_extra={"minItems": 1})] = Field(
        ..., description="Text or list of texts"
    )
    parameters: NoParameters = Field(default_factory=NoParameters)

    @field_validator("inputs")
    @classmethod
    def _non_empty(cls, value: str | list[str]) -> str | list[str]:
        texts = [value] if isinstance(value, str) else value
        if not texts:
            raise ValueError("inputs is empty: send at least one text")
        for index, text in enumerate(texts):
            if not text.strip():
                raise ValueError(f"input {index} is empty or only whitespace")
        return value

    @property
    def texts(self) -> list[str]:
        return [self.inputs] if isinstance(self.inputs, str) else list(self.inputs)


class GenerationPredictRequest(PredictRequest):
    """text-generation: ``inputs`` plus generation ``parameters`` (serve/generation.py)."""

    parameters: GenerationParameters = Field(default_factory=GenerationParameters)


def predict_request(task: str) -> type[PredictRequest]:
    """The request model of this task (the schema documents only what the task takes)."""
    return GenerationPredictRequest if task == "text-generation" else PredictRequest


class PredictResponse(BaseModel):
    model: str
    task: str
    outputs: list[Any] = Field(
        ...,
        description=(
            "One entry per input: an embedding (list of floats), a classification "
            "({label, score, scores}) or a generation ({text, tokens, finish_reason})"
        ),
    )


class HealthResponse(BaseModel):
    status: str
    reason: str = ""
    device: str = ""
