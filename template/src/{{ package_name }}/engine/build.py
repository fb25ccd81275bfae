"""One way to build the engine from the settings, for the server and for ``predict``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..settings import Settings
from .batcher import Batcher


def build_engine(
    settings: Settings,
    predictor: Callable[[], Any],
    *,
    workers: int,
    on_batch: Callable[[int], None] | None = None,
) -> Batcher:
    """A Batcher sized by MAX_BATCH_SIZE, MAX_BATCH_TOKENS, MAX_BATCH_PADDING,
    MAX_BATCH_WAIT_MS and MAX_QUEUE_ITEMS."""
    return Batcher(
        predictor,
        max_batch_size=settings.max_batch_size,
        max_batch_tokens=settings.max_batch_tokens,
        max_batch_padding=settings.max_batch_padding,
        max_wait_s=settings.max_batch_wait_ms / 1000,
        max_queue_items=settings.max_queue_items,
        workers=workers,
        on_batch=on_batch,
    )
