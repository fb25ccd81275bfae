"""Errors of the batching engine; the routes map each to an HTTP status."""

from __future__ import annotations


class QueueFullError(Exception):
    """The queue cannot take this request now (HTTP 503, retry later)."""

    def __init__(self, queued: int, wanted: int, limit: int) -> None:
        super().__init__(
            f"server is at capacity: {queued} inputs queued, {wanted} more would pass the "
            f"limit of {limit}; retry after a short wait"
        )


class DeadlineExceededError(Exception):
    """The request was not answered before its deadline (HTTP 504)."""


class ClientGoneError(Exception):
    """The client closed its connection before its answer: its queued inputs were dropped
    (HTTP 499, which nobody reads; counted in the metrics)."""


class EngineStoppedError(Exception):
    """The engine is shut down and takes no new work (HTTP 503)."""


class InvalidItemError(ValueError):
    """An input the model cannot take, such as a token id outside the vocabulary (422)."""


class ItemFailedError(Exception):
    """The model failed on this input on its own (HTTP 500, JSON); its batch's other
    requests were answered (see isolation.py)."""
