"""The end of a drain: what cannot finish by the deadline is answered, not dropped.

Used by the SIGTERM handler (server.py) and by the lifespan's shutdown (app.py): queued and
running work gets until the deadline; what is left then is answered JSON 503
``shutting_down`` with Retry-After (engine errors, inference.py), so that uvicorn never has
to cancel a request and answer it with a plain-text 500.
"""

from __future__ import annotations

import asyncio
import logging
import time

from ..engine.batcher import Batcher
from ..engine.errors import EngineStoppedError
from ..settings import Settings

log = logging.getLogger(__name__)

#: Unfinished work is answered this long before the drain deadline (at most a quarter of
#: the drain time), so that the answers are written before the process must be gone.
ANSWER_MARGIN_S = 0.5

SHUTTING_DOWN = (
    "the server is shutting down and could not finish this request before its drain "
    "deadline; retry: another replica takes it"
)


def answer_by(deadline: float, settings: Settings) -> float:
    """When unfinished work must be answered, for a drain ending at ``deadline``."""
    return deadline - min(ANSWER_MARGIN_S, settings.drain_timeout_s / 4)


async def answer_unfinished(engine: Batcher | None) -> None:
    """Answer every request the engine has not finished with 503 ``shutting_down``."""
    if engine is None or engine.idle:
        return
    engine.abort(EngineStoppedError(SHUTTING_DOWN))
    log.warning("drain deadline: unfinished requests answered 503 shutting_down")
    await asyncio.sleep(0.05)  # let their handlers write the answers


async def finish_engine(engine: Batcher, deadline: float | None, settings: Settings) -> None:
    """Lifespan shutdown: let queued work finish until the deadline, answer the rest, stop."""
    deadline = deadline or time.monotonic() + settings.drain_timeout_s
    await engine.stop(timeout_s=max(0.0, answer_by(deadline, settings) - time.monotonic()))
    await answer_unfinished(engine)
