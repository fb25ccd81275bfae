"""Server lifecycle state: what /health and /ready report, and why."""

from __future__ import annotations

import enum
import threading
from dataclasses import dataclass, field
from typing import Any


class Health(enum.Enum):
    STARTING = "starting"
    LOADING = "loading"
    WARMING = "warming"
    READY = "ready"
    DRAINING = "draining"
    FAILED = "failed"


@dataclass
class ServerState:
    """Shared by the lifespan (writer) and the routes (readers)."""

    health: Health = Health.STARTING
    reason: str = "server is starting"
    predictor: Any = None
    device: str = ""
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def set(self, health: Health, reason: str) -> None:
        with self._lock:
            self.health, self.reason = health, reason

    @property
    def ready(self) -> bool:
        return self.health is Health.READY

    @property
    def accepting(self) -> bool:
        """Inference routes take work: the model is loaded and the server is ready, or
        draining (after SIGTERM /ready says 503, but requests that still arrive are served)."""
        return self.predictor is not None and self.health in (Health.READY, Health.DRAINING)
