"""The one place that picks the runtime: torch or onnxruntime.

The server, the ``predict`` command and the Modal app all load through ``load_predictor``;
heavy imports (torch, transformers, onnxruntime) happen only here, when it runs.
"""

from __future__ import annotations

from ..settings import Settings
from .predictor import Predictor


def load_predictor(settings: Settings) -> Predictor:
    """The configured runtime's predictor (heavy imports happen only here, lazily)."""
    if settings.model_stub == "zero-cost":  # benchmarks of the server itself: runtime/stub.py
        from .stub import load_stub

        return load_stub(settings)
    if settings.runtime == "onnxruntime":  # torch-free path (edge and ONNX images)
        from .onnx_predictor import load_onnx_predictor

        return load_onnx_predictor(settings)
    from .torch_predictors import load_torch_predictor

    return load_torch_predictor(settings)
