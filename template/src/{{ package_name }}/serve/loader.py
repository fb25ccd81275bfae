"""Load and warm the model off the event loop, recording each step in the state."""

from __future__ import annotations

import gc
import logging

from ..runtime.load import load_predictor
from ..runtime.predictor import active_device, warm_up
from ..settings import Settings
from .state import Health, ServerState

log = logging.getLogger(__name__)


def load_and_warm(settings: Settings, state: ServerState) -> None:
    """Runs in a worker thread; never raises (a failure is reported by /ready)."""
    try:
        # The reasons are public (/ready answers anyone): no paths, no exception text.
        state.set(Health.LOADING, f"loading the {settings.task} model")
        predictor = load_predictor(settings)
        device = active_device(predictor)
        if device != settings.device:
            raise RuntimeError(f"weights are on {device}, but {settings.device} was requested")
        # Several GPUs: one worker each, and /ready waits until every one of them is warm.
        members = getattr(predictor, "members", None) or [predictor]
        if settings.warmup:
            for number, member in enumerate(members, start=1):
                state.set(Health.WARMING, f"warming model worker {number} of {len(members)}")
                warm_up(member)
        # Weights, tokenizer and imported modules live as long as the process: take them out
        # of the cyclic collector's reach, or every full collection walks them all and stalls
        # each request in flight (pauses of 100-270 ms measured under load before this).
        gc.collect()
        gc.freeze()
        state.predictor, state.device = predictor, device
        where = ", ".join(str(member.device) for member in members)
        state.set(Health.READY, f"{settings.task} model ready on {where}")
        log.info("ready: %s on %s", settings.model_source, device)
    except Exception as exc:  # any load failure must surface through /ready
        log.exception("model failed to load")
        state.set(Health.FAILED, public_reason(exc, settings))


def public_reason(exc: Exception, settings: Settings) -> str:
    """What /ready may tell anyone about a failed load: the fix, never a path."""
    from ..runtime.edge_runner import ProviderNotActiveError

    if isinstance(exc, ProviderNotActiveError):  # names providers and what to install
        return f"model failed to load: {exc}"
    if isinstance(exc, FileNotFoundError):
        fix = (
            "run `export-onnx` and point ONNX_PATH at its output"
            if settings.runtime == "onnxruntime"
            else "mount or copy the weights to MODEL_DIR"
        )
        return f"model failed to load: a model file is missing ({fix}; the server log names it)"
    return f"model failed to load ({type(exc).__name__}): the server log says why"
