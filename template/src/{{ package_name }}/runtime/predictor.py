"""What the serving engine needs from a model, whatever the task or runtime."""

from __future__ import annotations

from typing import Any, Protocol

WARMUP_TEXTS = ["Warm-up request.", "A second, somewhat longer warm-up sentence for batching."]


class Predictor(Protocol):
    """What the serving engine needs from a model, whatever the task or runtime."""

    task: str
    device: str

    def count_tokens(self, texts: list[str]) -> list[int]: ...

    def check_lengths(self, texts: list[str]) -> None: ...

    def predict(self, texts: list[str]) -> list[Any]: ...


def active_device(predictor: Any) -> str:
    """The device the weights really live on (for honest readiness)."""
    if callable(getattr(predictor, "active_device", None)):  # onnxruntime: its provider
        return str(predictor.active_device())
    return str(next(predictor.model.parameters()).device.type)


def warm_up(predictor: Predictor) -> None:
    """One real batch through the whole path, so the first request is not the slow one."""
    predictor.predict(WARMUP_TEXTS)
