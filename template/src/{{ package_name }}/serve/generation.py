"""Generation parameters: what the routes accept, checked, and turned into engine options.

Every protocol takes the same sampling fields (``runtime/generation.py`` does what each
means); the schemas give their ranges, so a value out of range is a 422 that names the
field. The options are the batcher's grouping key: requests only share a batch when their
options are equal, so a short ``max_tokens`` never waits for a long one.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from .fields import WHOLE

#: The most tokens one request may ask for (``max_tokens``, ``max_new_tokens``).
MAX_NEW_TOKENS = 4096
#: As in OpenAI's API: at most 4 stop strings.
MAX_STOPS = 4

StopText = Annotated[str, Field(min_length=1, max_length=256)]
Stop = StopText | Annotated[list[StopText], Field(max_length=MAX_STOPS)] | None
#: Integers JSON carries exactly (JavaScript's Number.MAX_SAFE_INTEGER).
JSON_SAFE = 2**53 - 1


class SamplingFields(BaseModel):
    """The sampling fields every generation route takes (OpenAI's names and ranges).

    Strict types: ``false`` or ``"0.5"`` is not a number (the schema says so too)."""

    temperature: float = Field(
        0.0,
        strict=True,
        ge=0,
        le=2,
        description="0: greedy (the most likely token); higher: more random",
    )
    top_p: float = Field(
        1.0,
        strict=True,
        gt=0,
        le=1,
        description="sample from the smallest set of tokens with this mass",
    )
    top_k: Annotated[int, WHOLE] = Field(
        0, ge=0, description="sample from the k most likely tokens; 0: all"
    )
    seed: Annotated[int, Field(ge=-JSON_SAFE, le=JSON_SAFE), WHOLE] | None = Field(
        None, description="same seed and prompt, same output"
    )
    stop: Stop = Field(
        None,
        description=f"up to {MAX_STOPS} strings; generation ends before the first one "
        '(finish_reason "stop"), which is not returned',
    )
    presence_penalty: float = Field(
        0.0,
        strict=True,
        ge=-2,
        le=2,
        description="lower the logit of tokens already in the completion",
    )
    frequency_penalty: float = Field(
        0.0,
        strict=True,
        ge=-2,
        le=2,
        description="lower a token's logit by this times its count so far",
    )

    def options(self, max_new_tokens: int | None) -> dict[str, Hashable]:
        """The engine options (``runtime.generation.Sampling``'s fields), defaults left out
        so that requests that mean the same share a batch (no ``max_new_tokens``: the
        predictor's default)."""
        options: dict[str, Hashable] = {}
        if max_new_tokens is not None:
            options["max_new_tokens"] = max_new_tokens
        stop = (self.stop,) if isinstance(self.stop, str) else tuple(self.stop or ())
        if stop:
            options["stop"] = stop
        if self.presence_penalty:
            options["presence_penalty"] = self.presence_penalty
        if self.frequency_penalty:
            options["frequency_penalty"] = self.frequency_penalty
        if self.temperature > 0:  # greedy ignores the rest: greedy requests batch together
            options["temperature"] = self.temperature
            if self.top_p < 1:
                options["top_p"] = self.top_p
            if self.top_k:
                options["top_k"] = self.top_k
            if self.seed is not None:
                options["seed"] = self.seed
        return options


class NoParameters(BaseModel):
    """Encoders (embeddings, classification) take no per-request parameters."""

    model_config = ConfigDict(extra="forbid")


class GenerationParameters(NoParameters, SamplingFields):
    """text-generation: ``parameters`` of the native, SageMaker and Vertex AI routes.

    Without ``temperature`` the generation is greedy (the same text every time)."""

    model_config = ConfigDict(extra="forbid")

    max_new_tokens: Annotated[int, Field(ge=1, le=MAX_NEW_TOKENS), WHOLE] | None = Field(
        None, description="tokens to generate (default: the server's)"
    )


#: OpenAI fields that change the answer and that this engine does not implement, with the
#: values that ask for nothing: anything else is refused (422) instead of ignored.
UNSUPPORTED: dict[str, tuple[Any, ...]] = {
    "logprobs": (None, False),
    "top_logprobs": (None, 0),
    "echo": (None, False),
    "best_of": (None, 1),
    "suffix": (None, ""),
    "logit_bias": (None, {}),
    "response_format": (None, {"type": "text"}),
    "tools": (None, []),
    "tool_choice": (None, "none"),
    "functions": (None, []),
    "function_call": (None, "none"),
    "audio": (None,),
    "modalities": (None, ["text"]),
    "prediction": (None,),
}


class OpenAISampling(SamplingFields):
    """The OpenAI routes: OpenAI's default temperature (1, sampling), the unsupported
    fields refused, and fields that do not change the answer (``user``, ...) ignored."""

    model_config = ConfigDict(extra="ignore")

    temperature: float = Field(
        1.0,
        strict=True,
        ge=0,
        le=2,
        description="0: greedy; default 1 (OpenAI's default): sampling",
    )

    @model_validator(mode="before")
    @classmethod
    def _refuse_unsupported(cls, data: Any) -> Any:
        if isinstance(data, dict):
            asked = sorted(k for k, ok in UNSUPPORTED.items() if k in data and data[k] not in ok)
            if asked:
                raise ValueError(
                    f"{', '.join(asked)}: not supported by this server's engine; remove "
                    f"{'it' if len(asked) == 1 else 'them'} from the request"
                )
        return data
