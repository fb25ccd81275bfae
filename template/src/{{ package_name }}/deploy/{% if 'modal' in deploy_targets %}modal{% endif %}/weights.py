"""Weights in a Modal Volume: downloaded once, even when several first containers start at once.

A Volume is not a shared disk with locks: each container sees a snapshot, and changes
reach the others only after ``commit()`` here and ``reload()`` there. So the protocol is:

1. A container whose snapshot has ``<revision>/COMPLETE`` loads from it (the common case).
2. Otherwise it tries to take a lease in a ``modal.Dict`` with ``put(..., skip_if_exists=True)``
   (atomic: only one container gets it). The winner downloads into ``<revision>``, writes
   ``COMPLETE`` last, commits the volume and drops the lease.
3. The others ``reload()`` the volume every few seconds until ``COMPLETE`` appears. If the
   lease is older than ``LEASE_S`` (its holder died mid-download), one of them takes it over.

``ensure_weights`` takes the download, the lease store and the volume as arguments, so the
protocol is tested with stand-ins for the two Modal objects (there is no Modal offline).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

#: the file written last, after every weight file: its presence means the copy is whole
MARKER = "COMPLETE"
#: a lease older than this is taken over (its holder is presumed dead)
LEASE_S = 1800.0
POLL_S = 5.0


class Leases(Protocol):
    """The part of ``modal.Dict`` the protocol uses."""

    def put(self, key: Any, value: Any, *, skip_if_exists: bool = False) -> bool: ...

    def get(self, key: Any, default: Any = None) -> Any: ...

    def pop(self, key: Any) -> Any: ...


class SharedVolume(Protocol):
    """The part of ``modal.Volume`` the protocol uses."""

    def commit(self) -> None: ...

    def reload(self) -> None: ...


def is_complete(target: Path) -> bool:
    return (target / MARKER).is_file()


def ensure_weights(
    target: Path,
    download: Callable[[Path], None],
    *,
    leases: Leases,
    volume: SharedVolume,
    timeout_s: float,
    poll_s: float = POLL_S,
    lease_s: float = LEASE_S,
) -> str:
    """Make ``target`` hold the whole model; says how: ``present``, ``downloaded``, ``waited``."""
    if is_complete(target):
        return "present"
    me, key = uuid.uuid4().hex, str(target)
    deadline = time.monotonic() + timeout_s
    while True:
        now = time.time()
        lease = {"holder": me, "since": now}
        got = leases.put(key, lease, skip_if_exists=True)
        if not got and _stale(leases.get(key), now, lease_s):
            leases.put(key, lease)  # take over a dead holder's lease
            got = True
        if got:
            try:
                volume.reload()  # someone may have finished between our check and the lease
                if is_complete(target):
                    return "waited"
                target.mkdir(parents=True, exist_ok=True)
                download(target)
                (target / MARKER).write_text(f"{me}\n", encoding="utf-8")
                volume.commit()
                return "downloaded"
            finally:
                if (leases.get(key) or {}).get("holder") == me:
                    leases.pop(key)
        if time.monotonic() > deadline:
            raise TimeoutError(
                f"another container has been downloading the weights into {target} for over "
                f"{timeout_s:.0f} s; delete the lease with `modal dict clear` if it died"
            )
        time.sleep(poll_s)
        volume.reload()
        if is_complete(target):
            return "waited"


def _stale(lease: dict[str, Any] | None, now: float, lease_s: float) -> bool:
    return lease is not None and now - float(lease.get("since", now)) > lease_s
