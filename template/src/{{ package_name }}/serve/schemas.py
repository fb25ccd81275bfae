"""Request and response models of the native API (``POST /v1/predict``)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator


class PredictParameters(BaseModel):
    model_config = ConfigDict(extra="forbid")

    max_new_tokens: int | None = Field(
        None, ge=1, le=4096, description="text-generation only: tokens to generate"
    )


class PredictRequest(BaseModel):
    """``inputs`` is one string or a list of strings."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"inputs": ["The food was great.", "Stocks fell."]}]},
    )

    inputs: str | list[str] = Field(..., description="Text or list of texts")
    parameters: PredictParameters = Field(default_factory=PredictParameters)

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
