"""The onnxruntime serving path: the same Predictor interface as ``torch_predictors.py``, no torch.

Selected with ``runtime=onnxruntime`` (``<PREFIX>RUNTIME``); the graph comes from
``<PREFIX>ONNX_PATH`` (written by ``export-onnx``, next to its tokenizer and metadata).
Nothing here imports torch or transformers, so the edge image can leave them out.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from ..errors import InputTooLongError
from ..settings import Settings
from .edge_runner import OnnxTextModel, read_meta
from .workers import worker_layout

log = logging.getLogger(__name__)

SERVED_TASKS = ("feature-extraction", "text-classification")


class OnnxPredictor:
    """Embeddings or classification from an exported graph (outputs match the torch path)."""

    def __init__(self, model: OnnxTextModel, max_seq_length: int) -> None:
        self.model = model
        self.task = model.task
        self.device = model.active_device()
        self.max_seq_length = max_seq_length

    def count_tokens(self, texts: list[str]) -> list[int]:
        return self.model.count_tokens(texts)

    def check_lengths(self, texts: list[str]) -> None:
        for index, tokens in enumerate(self.count_tokens(texts)):
            if tokens > self.max_seq_length:
                raise InputTooLongError(index, tokens, self.max_seq_length)

    def predict(self, texts: list[str]) -> list[Any]:
        return self.model.predict(texts)

    def vocab_size(self) -> int:
        """Token ids run from 0 to this - 1 (engine/items.py checks inputs against it)."""
        return int(self.model._counter.get_vocab_size())

    def special_ids(self) -> list[int]:
        """Ids of special tokens (padding, separators): they decode to no text."""
        added = self.model._counter.get_added_tokens_decoder()
        return [int(i) for i, token in added.items() if token.special]

    def decode_ids(self, ids: list[int]) -> str:
        """The text of token ids given as input, special tokens left out."""
        return str(self.model._counter.decode(ids, skip_special_tokens=True))

    def active_device(self) -> str:
        return self.model.active_device()


def load_onnx_predictor(settings: Settings) -> OnnxPredictor:
    """Open ``settings.onnx_path`` on the configured provider; refuse a silent CPU fallback."""
    path = Path(settings.onnx_path)
    if settings.task not in SERVED_TASKS:
        raise ValueError(
            f"runtime onnxruntime serves {' and '.join(SERVED_TASKS)}, not {settings.task}: "
            "set RUNTIME=torch for this model"
        )
    meta = read_meta(path.parent)
    if meta["task"] != settings.task:
        raise ValueError(
            f"{path} was exported for {meta['task']} but the service is configured for "
            f"{settings.task}: re-run `export-onnx` for this model"
        )
    limit = min(settings.max_seq_length, int(meta["max_seq_length"]))
    log.info("loading %s with onnxruntime on %s", path, settings.device)
    model = OnnxTextModel(path, device=settings.device, threads=worker_layout(settings).threads)
    model.check_provider()
    return OnnxPredictor(model, limit)
