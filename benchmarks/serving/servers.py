"""The systems under test: how each one starts, what it is sent, and freezing idle ones."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from . import MAX_BATCH, ROOT, SERVERS

TWO_WORKERS = 2  # the '-2w' variants: this many worker processes of threads // 2 each


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def thread_env(threads: int) -> dict[str, str]:
    """Torch, OpenMP and MKL threads for each model process of a server."""
    return {
        "BENCH_TORCH_THREADS": str(threads),
        "OMP_NUM_THREADS": str(threads),
        "MKL_NUM_THREADS": str(threads),
    }


def inputs_body(texts: list[str]) -> dict[str, list[str]]:
    return {"inputs": texts}


def openai_body(texts: list[str]) -> dict[str, list[str]]:
    return {"input": texts}


@dataclass(frozen=True)
class ServerSpec:
    """How to start one server and what to send it (``{"inputs": [...]}`` unless ``body``
    says otherwise)."""

    cmd: Callable[[int], list[str]]  # the command line for a port
    env: dict[str, str]
    cwd: Path
    ready: str  # GET path that answers 200 once the server is ready
    path: str  # POST path of the embedding route
    body: Callable[[list[str]], dict[str, list[str]]] = field(default=inputs_body)


def process_tree(pid: int) -> list[int]:
    """``pid`` and every process below it, parents first (Linux /proc; [] elsewhere)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(entry.name))
    if not children:
        return []
    tree, todo = [], [pid]
    while todo:
        tree.append(todo.pop(0))
        todo.extend(children.get(tree[-1], []))
    return tree


def cpu_seconds(pids: list[int]) -> float:
    """User and system CPU seconds of ``pids`` so far (Linux /proc; 0 elsewhere)."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14, 15 of stat)
    return total / os.sysconf("SC_CLK_TCK")


class Server:
    """A running server that can be frozen (SIGSTOP) while other systems are measured.

    Idle is not free: LitServe's workers and queue manager poll, about a quarter of a core
    at rest with two workers, which on 2 cores would slow whatever is measured beside them.
    So every server but the one under load is stopped, and all are during the limits.
    """

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.stopped: list[int] = []

    def pause(self) -> None:
        if self.stopped:
            return
        self.stopped = process_tree(self.pid)
        for pid in self.stopped:  # parents first: none sees its children stop
            with suppress(ProcessLookupError):
                os.kill(pid, signal.SIGSTOP)

    def resume(self) -> None:
        for pid in reversed(self.stopped):
            with suppress(ProcessLookupError):
                os.kill(pid, signal.SIGCONT)
        self.stopped = []

    def settle(self, window_s: float = 0.25, busy: float = 0.4, timeout_s: float = 30.0) -> float:
        """Wait until the server is idle: under ``busy`` of a core over ``window_s``.

        wrk closes its connections mid-request when a run ends; a server that keeps running
        the requests of clients gone (all but the generated one, which drops them) would
        spend the next measured seconds on them. Returns the seconds waited."""
        start = time.monotonic()
        last = cpu_seconds(process_tree(self.pid))
        while time.monotonic() - start < timeout_s:
            time.sleep(window_s)
            now = cpu_seconds(process_tree(self.pid))
            if (now - last) / window_s < busy:
                break
            last = now
        return time.monotonic() - start


@contextmanager
def running(
    cmd: list[str], env: dict[str, str], cwd: Path, port: int, ready_path: str, log: Path
) -> Iterator[Server]:
    with log.open("w") as out:
        proc = subprocess.Popen(
            cmd, env=env, cwd=cwd, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise RuntimeError(f"{cmd[:3]} exited with {proc.returncode}; see {log}")
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
                    probe = f"GET {ready_path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
                    sock.sendall(probe.encode())
                    if b" 200 " in sock.recv(64):
                        break
            except OSError:
                pass
            time.sleep(0.5)
        else:
            raise RuntimeError(f"{cmd[:3]} never became ready; see {log}")
        server = Server(proc.pid)
        try:
            yield server
        finally:
            server.resume()  # a stopped process would not act on SIGTERM
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)


#: The package of the template rendered with its defaults.
GENERATED_PACKAGE = "minilm_embeddings"


def render_generated(dest: Path, answers: dict[str, Any] | None = None) -> tuple[Path, str]:
    """Render the template (working tree) into ``dest``, ``answers`` on top of the defaults
    (the default model: ``GENERATED_PACKAGE``); return (project, package)."""
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    from tests.support.repo import render_answers, snapshot_template

    project = render_answers(snapshot_template(dest / "template"), dest / "project", answers)
    return project, GENERATED_PACKAGE


def generated_spec(
    project: Path, model_dir: str, threads: int, base_env: Mapping[str, str], device: str = "cpu"
) -> ServerSpec:
    """The generated server in ``project`` as the benchmarks run it: on ``device`` with
    ``threads`` torch threads, the rest of its settings its own defaults for the project's
    hardware, except for what every benchmarked server gets alike (below)."""
    prefix = GENERATED_PACKAGE.upper() + "_"
    env = {
        **base_env,
        # in front of whatever the caller runs with (on the GPU machine: the carried wheels)
        "PYTHONPATH": os.pathsep.join(
            [str(project / "src"), *filter(None, [os.environ.get("PYTHONPATH")])]
        ),
        "HF_HUB_OFFLINE": "1",
        "TOKENIZERS_PARALLELISM": "false",
        f"{prefix}MODEL_DIR": model_dir,
        f"{prefix}DEVICE": device,
        f"{prefix}TORCH_THREADS": str(threads),
        f"{prefix}LOG_LEVEL": "warning",
        f"{prefix}REQUIRE_AUTH": "false",
        f"{prefix}DRAIN_DELAY_S": "0",
        # Same 60 s request timeout as the other servers, and a queue that holds the largest
        # offered load (64 clients x 16 sentences): the default (16 x batch) would answer
        # part of that load with 503 + Retry-After, by design.
        f"{prefix}REQUEST_TIMEOUT_S": "60",
        f"{prefix}MAX_QUEUE_ITEMS": "4096",
    }
    command = [sys.executable, "-m", f"{GENERATED_PACKAGE}.cli", "serve", "--host", "127.0.0.1"]
    return ServerSpec(lambda p: [*command, "--port", str(p)], env, project, "/ready", "/v1/predict")


def systems(
    threads: int, bench_python: str, work: Path, model_dir: str, infinity_python: str = ""
) -> dict[str, ServerSpec]:
    """Every system the benchmark knows, by name; the template is rendered into ``work``."""
    base_env = {
        **os.environ,
        **thread_env(threads),
        "BENCH_WORKERS": "1",
        "BENCH_MODEL_DIR": model_dir,
        "HF_HUB_OFFLINE": "1",
        "TOKENIZERS_PARALLELISM": "false",
        "BENTOML_DO_NOT_TRACK": "true",
        "PYTHONPATH": str(SERVERS),
    }
    # The layout of 2 replicas x 1 thread: 2 worker processes, the threads shared between them.
    two_worker_env = {
        **base_env,
        **thread_env(max(1, threads // TWO_WORKERS)),
        "BENCH_WORKERS": str(TWO_WORKERS),
    }
    project, _ = render_generated(work)
    generated = generated_spec(project, model_dir, threads, base_env)
    main_py = sys.executable
    bento_cmd = [bench_python, "-m", "bentoml", "serve", "bento_service:Embed"]
    bento_cmd += ["--host", "127.0.0.1"]
    litserve_cmd = [bench_python, "litserve_server.py"]
    bentoml = ServerSpec(
        lambda p: [*bento_cmd, "--port", str(p)], base_env, SERVERS, "/readyz", "/embed"
    )
    litserve = ServerSpec(
        lambda p: [*litserve_cmd, str(p)], base_env, SERVERS, "/health", "/predict"
    )
    naive = ServerSpec(
        lambda p: [main_py, "naive_fastapi.py", str(p)], base_env, SERVERS, "/health", "/embed"
    )
    # Infinity (infinity-emb, its own venv): its torch engine, batches of MAX_BATCH as every
    # other server, the same threads; no telemetry, nothing fetched (a local model directory).
    infinity_cmd = [str(Path(infinity_python).parent / "infinity_emb"), "v2"]
    infinity_cmd += ["--model-id", model_dir, "--engine", "torch", "--device", "cpu"]
    infinity_cmd += ["--batch-size", str(MAX_BATCH), "--host", "127.0.0.1"]
    infinity_env = {**base_env, "DO_NOT_TRACK": "1", "INFINITY_ANONYMOUS_USAGE_STATS": "0"}
    infinity = ServerSpec(
        lambda p: [*infinity_cmd, "--port", str(p)],
        infinity_env,
        work,
        "/health",
        "/embeddings",
        body=openai_body,
    )
    return {
        "naive-fastapi": naive,
        "bentoml": bentoml,
        "bentoml-2w": replace(bentoml, env=two_worker_env),
        "litserve": litserve,
        "litserve-2w": replace(litserve, env=two_worker_env),
        "infinity": infinity,
        "generated": generated,
    }
