"""The load: wrk, closed loop (each connection sends its next request when the previous one
is answered), one Lua script per request shape, results read from the script's ``done()``.

wrk counts a response with a status above 399 as an error; so does this driver, together
with socket errors (connect, read, write) and timeouts. Throughput counts only the other
(successful) responses. wrk's latency percentiles cover every response it read (they are
nan when none succeeded). A server that refuses the first connection stops wrk at once:
``run_wrk`` raises then.

Steady rate: every run starts with all its connections sending at once, and a response
takes as long as the queue ahead of it, so the first response time of a run is a ramp (with
16 sentences a request at concurrency 32, seconds of a few-second window). A script made with
``steady=True`` counts the successful responses of each wall-clock second (wrk's Lua
``response()``, which costs wrk a little CPU, hence not for the ceiling's thousands of
requests a second); ``WrkResult.steady_per_s`` is their rate over the whole seconds that
start after the run's own p99 response time, the ramp left out.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import shutil
import signal
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

from .report import Cell

SETUP_HINT = "bash scripts/setup.sh --bench"
MAX_WRK_THREADS = 2  # plenty for a few thousand requests/s; each thread takes connections
TIMEOUT_S = 60  # the request timeout every server is given, too
MARKER = "WRK_RESULT "
SECONDS_MARKER = "WRK_SECONDS "

DONE = """
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '\\n%s{"requests": %d, "duration_us": %d, "status_errors": %d, "connect_errors": %d, '
    .. '"read_errors": %d, "write_errors": %d, "timeouts": %d, "p50_us": %d, "p99_us": %d}\\n',
    "MARKER", summary.requests, summary.duration, e.status, e.connect, e.read, e.write,
    e.timeout, latency:percentile(50), latency:percentile(99)))
  local pairs_ = {}
  for _, thread in ipairs(threads_seen) do
    for second, n in pairs(thread:get("per_second") or {}) do
      table.insert(pairs_, string.format("[%d, %d]", second, n))
    end
  end
  io.write("SECONDS_MARKER[" .. table.concat(pairs_, ", ") .. "]\\n")
end
""".replace("SECONDS_MARKER", SECONDS_MARKER).replace("MARKER", MARKER)

#: Each wrk thread counts its successful responses per wall-clock second (``steady=True``).
COUNT_SECONDS = """
per_second = {}
response = function(status, headers, body)
  if status < 400 then
    local now = os.time()
    per_second[now] = (per_second[now] or 0) + 1
  end
end
"""
#: The steady rate needs this many whole seconds after the ramp, else it is not reported.
MIN_STEADY_S = 3


class WrkMissing(RuntimeError):
    def __init__(self) -> None:
        super().__init__(f"wrk is not installed: run `{SETUP_HINT}` (apt-get install wrk)")


def wrk_path() -> str:
    """The wrk executable; ``WrkMissing`` (a one-line message) when there is none."""
    found = shutil.which("wrk")
    if found is None:
        raise WrkMissing()
    return found


@dataclass
class WrkResult:
    """One wrk run, as its ``done()`` reported it."""

    responses: int  # every response read, whatever its status
    seconds: float
    status_errors: int  # responses with a status above 399
    socket_errors: int  # connect, read and write errors, and timeouts
    p50_ms: float  # over every response read; nan when none succeeded
    p99_ms: float
    started: float = 0.0  # wall-clock time (time.time()) the run started
    per_second: dict[int, int] = field(default_factory=dict)  # steady=True scripts only

    @property
    def ok(self) -> int:
        return self.responses - self.status_errors

    @property
    def errors(self) -> int:
        return self.status_errors + self.socket_errors

    @property
    def requests_per_s(self) -> float:
        """Successful responses per second."""
        return self.ok / self.seconds if self.seconds > 0 else 0.0

    @property
    def steady_per_s(self) -> float | None:
        """Successful responses per second over the whole seconds after the ramp (the run's
        p99 response time from its start); None without per-second counts or with fewer
        than ``MIN_STEADY_S`` such seconds."""
        if not self.per_second or math.isnan(self.p99_ms):
            return None
        first = math.ceil(self.started + max(1.0, self.p99_ms / 1000))
        last = math.floor(self.started + self.seconds) - 1  # the last whole second's start
        if last - first + 1 < MIN_STEADY_S:
            return None
        counted = sum(self.per_second.get(second, 0) for second in range(first, last + 1))
        return counted / (last - first + 1)


def tail(steady: bool) -> str:
    """What every script ends with: the per-second count (``steady``), then ``done()``.
    ``done()`` reads ``threads_seen``, which each script's ``setup`` fills."""
    return (COUNT_SECONDS if steady else "") + DONE


def lua_script(path: str, body: bytes, steady: bool = False) -> str:
    """A wrk script that POSTs ``body`` (JSON) to ``path`` and prints its results as JSON
    (with ``steady``, also its successful responses per second)."""
    text = body.decode()
    level = 0
    while f"]{'=' * level}]" in text:
        level += 1
    eq = "=" * level
    return (
        'wrk.method = "POST"\n'
        f"wrk.path = [{eq}[{path}]{eq}]\n"
        f"wrk.body = [{eq}[{text}]{eq}]\n"
        'wrk.headers["Content-Type"] = "application/json"\n'
        "threads_seen = {}\n"
        "setup = function(thread) table.insert(threads_seen, thread) end\n" + tail(steady)
    )


def lua_script_cycling(path: str, bodies: list[bytes], steady: bool = False) -> str:
    """A wrk script that POSTs ``bodies`` (JSON) to ``path`` in turn, each wrk thread from
    its own place in the list, and prints its results as JSON (``steady``: as lua_script)."""
    texts = [body.decode() for body in bodies]
    level = 0
    while any(f"]{'=' * level}]" in text for text in [path, *texts]):
        level += 1
    eq = "=" * level
    entries = ",\n".join(f"  [{eq}[{text}]{eq}]" for text in texts)
    return (
        f"local bodies = {{\n{entries}\n}}\n"
        f"local path = [{eq}[{path}]{eq}]\n"
        'local headers = {["Content-Type"] = "application/json"}\n'
        "threads_seen = {}\n"
        "setup = function(thread)\n"
        f"  thread:set('start', #threads_seen * {max(1, len(bodies) // MAX_WRK_THREADS)})\n"
        "  table.insert(threads_seen, thread)\n"
        "end\n"
        "local next_body = nil\n"
        "request = function()\n"
        "  next_body = ((next_body or start or 0) % #bodies) + 1\n"
        '  return wrk.format("POST", path, headers, bodies[next_body])\n'
        "end\n" + tail(steady)
    )


def script_for(work: Path, path: str, body: bytes | list[bytes], steady: bool = False) -> Path:
    """The Lua script for one request shape (or a list of bodies sent in turn), written
    once into ``work``; ``steady``: it also counts responses per second (steady_per_s)."""
    if isinstance(body, bytes):
        script = lua_script(path, body, steady)
    else:
        script = lua_script_cycling(path, body, steady)
    name = hashlib.sha256(script.encode()).hexdigest()[:16]
    target = work / f"wrk-{name}.lua"
    if not target.exists():
        target.write_text(script, encoding="utf-8")
    return target


def parse(stdout: str) -> WrkResult:
    """The result line the script's ``done()`` printed."""
    match = re.search(rf"^{MARKER}(\{{.*\}})$", stdout, re.MULTILINE)
    if not match:
        raise RuntimeError(f"no result from wrk; its output:\n{stdout}")
    raw = json.loads(match.group(1))
    seen = raw["requests"] > raw["status_errors"]  # as before wrk: nan without a success
    return WrkResult(
        responses=raw["requests"],
        seconds=raw["duration_us"] / 1e6,
        status_errors=raw["status_errors"],
        socket_errors=sum(raw[k] for k in ("connect_errors", "read_errors", "write_errors"))
        + raw["timeouts"],
        p50_ms=raw["p50_us"] / 1000 if seen else math.nan,
        p99_ms=raw["p99_us"] / 1000 if seen else math.nan,
        per_second=per_second(stdout),
    )


def per_second(stdout: str) -> dict[int, int]:
    """Successful responses per wall-clock second, summed over wrk's threads ({} when the
    script did not count them)."""
    match = re.search(rf"^{SECONDS_MARKER}(\[.*\])$", stdout, re.MULTILINE)
    counts: dict[int, int] = {}
    for second, n in json.loads(match.group(1)) if match else []:
        counts[second] = counts.get(second, 0) + n
    return counts


def run_wrk(port: int, script: Path, concurrency: int, seconds: float) -> WrkResult:
    """``concurrency`` connections to 127.0.0.1:``port`` for ``seconds``, closed loop.

    wrk's -d takes whole seconds: a fractional run gets the next whole second as -d and is
    stopped with SIGINT (wrk then reports as usual) after ``seconds``.
    """
    threads = max(1, min(concurrency, MAX_WRK_THREADS))  # wrk wants connections >= threads
    cmd = [wrk_path(), "-c", str(concurrency), "-t", str(threads)]
    cmd += ["-d", f"{max(1, math.ceil(seconds))}s", "--timeout", f"{TIMEOUT_S}s"]
    cmd += ["-s", str(script), f"http://127.0.0.1:{port}"]
    started = time.time()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        if seconds != math.ceil(seconds) or seconds < 1:
            try:
                proc.wait(seconds)
            except subprocess.TimeoutExpired:
                proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=math.ceil(seconds) + TIMEOUT_S + 30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    if proc.returncode != 0:
        raise RuntimeError(f"wrk exited with {proc.returncode}: {err.strip() or out.strip()}")
    return replace(parse(out), started=started)


def measure(
    system: str,
    port: int,
    script: Path,
    size: int,
    concurrency: int,
    seconds: float,
    warmup: float,
    settle: Callable[[], object] | None = None,
) -> Cell:
    """One round of one cell: ``warmup`` seconds of load, ``settle()`` (the server finishes
    what the warm-up left), then ``seconds`` measured. Throughput is the steady rate when
    the script counts seconds and the run is long enough (``WrkResult.steady_per_s``), else
    the whole run's."""
    if warmup > 0:
        run_wrk(port, script, concurrency, warmup)
    if settle is not None:
        settle()
    result = run_wrk(port, script, concurrency, seconds)
    steady = result.steady_per_s
    return Cell(
        system,
        size,
        concurrency,
        sentences_per_s=(result.requests_per_s if steady is None else steady) * size,
        p50_ms=result.p50_ms,
        p99_ms=result.p99_ms,
        requests=result.ok,
        errors=result.errors,
        whole_run_per_s=result.requests_per_s * size,
        steady=steady is not None,
    )
