"""Isolation of bad items: when a batch fails, only the requests whose items fail it do.

The model runs a batch as one call, so one input it cannot take (or a fault it triggers)
fails the call for every input in it. :func:`run_isolated` then splits the batch in halves
and runs each again, down to single items: the items that fail on their own fail their
requests with the error; every other request gets its answer. A batch of ``n`` items with
one bad item costs about ``2 log2 n`` extra model calls, only when something failed.
Requests that already streamed text are not rerun (the client would get it twice): they fail.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from ..errors import InputTooLongError
from .errors import InvalidItemError, ItemFailedError
from .requests import PendingRequest, QueuedItem

log = logging.getLogger(__name__)


def run_isolated(
    batch: list[QueuedItem],
    process: Callable[[list[QueuedItem]], None],
    fail: Callable[[set[PendingRequest], Exception], None],
) -> None:
    """``process(batch)``; when it raises, bisect so that only the failing items' requests
    are failed (with the error their items raised), via ``fail``."""
    live = [item for item in batch if not item.request.done]
    if not live:
        return
    try:
        process(live)
    except Exception as exc:
        if len(live) == 1:
            log.warning("input %d of a request failed in the model: %r", live[0].index, exc)
            fail({live[0].request}, _as_item_error(live[0], exc))
            return
        started = {item.request for item in live if item.request.streamed}
        if started:  # rerunning would send their streamed text twice: they fail here
            log.warning("batch failed after %d streams started: %r", len(started), exc)
            fail(started, _as_stream_error(exc))
            live = [item for item in live if item.request not in started]
        log.warning("batch of %d failed (%r): retrying in halves to isolate it", len(live), exc)
        middle = len(live) // 2
        run_isolated(live[:middle], process, fail)
        run_isolated(live[middle:], process, fail)


def _as_stream_error(exc: Exception) -> Exception:
    """A stream that had begun when its batch failed: ended with the error, not rerun."""
    return ItemFailedError(
        f"generation failed after the stream began ({type(exc).__name__}: {exc}); resend the "
        "request"
    )


def _as_item_error(item: QueuedItem, exc: Exception) -> Exception:
    """Errors about the input keep their 422; anything else becomes a JSON 500 for it."""
    if isinstance(exc, InvalidItemError | InputTooLongError):
        return exc
    return ItemFailedError(
        f"input {item.index} failed in the model ({type(exc).__name__}: {exc}); the other "
        "inputs in its batch were answered"
    )
