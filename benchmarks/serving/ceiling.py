"""The server's own ceiling: the generated server with a model that costs nothing, against a
bare ASGI app that answers the same JSON, both under uvicorn, side by side.

    .venv/bin/python -m benchmarks.serving.ceiling --concurrency 64 --rounds 3 --duration 5
    .venv/bin/python -m benchmarks.serving.ceiling --profile 8 --py-spy /tmp/spy/bin/py-spy

The generated server runs with ``MODEL_STUB=zero-cost`` (runtime/stub.py: a fixed unit
vector per input, at once), every other setting as in ``python -m benchmarks.serving``.
The bare app (``benchmarks/servers/bare_asgi.py``) reads each body and sends the bytes the
stub server answered to the same request: what HTTP itself costs on this machine. wrk sends
one-sentence requests, closed loop; the rounds alternate the two (the idle one frozen).

``--profile S`` then records the stub server under the same load for S seconds with py-spy
(``--py-spy``; default: .venv-bench's, else the one on PATH) and prints where its Python
time goes: py-spy ``--gil`` samples (whichever thread holds the GIL), each charged to the
frame nearest the leaf that belongs to a known layer (uvicorn/httptools, starlette/FastAPI,
pydantic, the server's serve/ and engine/, asyncio, JSON, worker threads).
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import urllib.request
from collections import Counter
from contextlib import ExitStack
from pathlib import Path

from . import ROOT, SENTENCES, SERVERS, model_path, rotation
from .load import run_wrk, script_for, wrk_path
from .servers import free_port, running, systems

#: Layers a sampled stack is charged to: the first match from the leaf up, by file path.
LAYERS = [
    ("JSON (orjson, json)", ("orjson", "/json/")),
    ("pydantic", ("pydantic",)),
    ("engine/ (batcher, tickets)", ("/engine/",)),
    ("serve/ (hot routes, inference, metrics)", ("/serve/",)),
    ("starlette / FastAPI", ("starlette", "fastapi")),
    ("uvicorn / httptools (HTTP)", ("uvicorn", "httptools", "h11")),
    ("asyncio / uvloop (event loop)", ("asyncio", "uvloop")),
    ("threading (worker threads)", ("threading",)),
]


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.serving.ceiling", description=(__doc__ or "").split("\n\n")[0]
    )
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--duration", type=float, default=5.0, help="seconds per round")
    parser.add_argument("--warmup", type=float, default=1.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--profile", type=float, default=0, help="py-spy seconds (0: none)")
    bench_spy = ROOT / ".venv-bench" / "bin" / "py-spy"  # scripts/setup.sh --bench
    spy = str(bench_spy) if bench_spy.exists() else shutil.which("py-spy") or "py-spy"
    parser.add_argument("--py-spy", default=spy)
    parser.add_argument("--output", type=Path, default=None)
    parser.add_argument(
        "--raw", type=Path, default=None, help="keep py-spy's raw stacks (collapsed) here"
    )
    return parser.parse_args(argv)


def fetch(port: int, path: str, body: bytes) -> bytes:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}", body, {"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return bytes(response.read())


def layer_of(stack: str) -> str:
    """The layer a sampled stack (``frame;frame;...``, root first) is charged to."""
    for frame in reversed(stack.split(";")):
        for name, needles in LAYERS:
            if any(needle in frame for needle in needles):
                return name
    return "other"


def profile(py_spy: str, pid: int, seconds: float, out: Path) -> str:
    """py-spy's samples of ``pid`` for ``seconds``, as shares per layer and top leaf frames."""
    subprocess.run(
        [
            py_spy,
            "record",
            "--pid",
            str(pid),
            "--duration",
            str(max(1, round(seconds))),
            "--format",
            "raw",
            "--output",
            str(out),
            "--nonblocking",
            "--rate",
            "200",
            "--gil",
        ],
        check=True,
        capture_output=True,
    )
    layers: Counter[str] = Counter()
    leaves: Counter[str] = Counter()
    for line in out.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        layers[layer_of(stack)] += int(count)
        leaves[stack.split(";")[-1]] += int(count)
    total = sum(layers.values()) or 1
    lines = [f"py-spy --gil, {total} samples of the thread holding the GIL:", ""]
    lines += [f"- {name}: {100 * n / total:.0f}%" for name, n in layers.most_common()]
    lines += ["", "top leaf frames:", ""]
    lines += [f"- {100 * n / total:.1f}% {frame}" for frame, n in leaves.most_common(12)]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    wrk_path()
    model_dir = model_path()
    body = json.dumps({"inputs": SENTENCES[:1]}).encode()
    results: dict[str, list[tuple[float, float, float, int]]] = {"generated": [], "bare": []}
    with tempfile.TemporaryDirectory(prefix="ceiling-") as tmp, ExitStack() as stack:
        work = Path(tmp)
        spec = systems(2, sys.executable, work, model_dir)["generated"]
        env = {**spec.env, "MINILM_EMBEDDINGS_MODEL_STUB": "zero-cost"}  # the default project
        ports = {"generated": free_port(), "bare": free_port()}
        stub = stack.enter_context(
            running(
                spec.cmd(ports["generated"]),
                env,
                spec.cwd,
                ports["generated"],
                "/ready",
                work / "generated.log",
            )
        )
        answer = fetch(ports["generated"], spec.path, body)
        (work / "response.json").write_bytes(answer)
        bare_env = {**env, "BARE_RESPONSE": str(work / "response.json")}
        bare_cmd = [sys.executable, str(SERVERS / "bare_asgi.py"), str(ports["bare"])]
        bare = stack.enter_context(
            running(bare_cmd, bare_env, SERVERS, ports["bare"], "/health", work / "bare.log")
        )
        assert fetch(ports["bare"], spec.path, body) == answer  # the same bytes
        servers = {"generated": stub, "bare": bare}
        script = script_for(work, spec.path, body)
        for round_ in range(args.rounds):
            for name in rotation(["generated", "bare"], round_):
                other = "bare" if name == "generated" else "generated"
                servers[other].pause()
                servers[name].resume()
                run_wrk(ports[name], script, args.concurrency, args.warmup)
                r = run_wrk(ports[name], script, args.concurrency, args.duration)
                results[name].append((r.requests_per_s, r.p50_ms, r.p99_ms, r.errors))
                print(
                    f"round {round_ + 1} {name:9}: {r.requests_per_s:7.0f} requests/s "
                    f"p50={r.p50_ms:.1f} ms p99={r.p99_ms:.1f} ms errors={r.errors}",
                    flush=True,
                )
        text = summarise(results, args) if args.rounds else ""
        if args.profile:
            bare.pause()
            stub.resume()
            load = threading.Thread(
                target=run_wrk,
                args=(ports["generated"], script, args.concurrency, args.profile + 2),
            )
            load.start()
            threading.Event().wait(1)
            raw = args.raw or work / "spy.txt"
            text += "\n\n" + profile(args.py_spy, stub.pid, args.profile, raw)
            load.join()
    print("\n" + text)
    if args.output:
        args.output.write_text(text + "\n", encoding="utf-8")
    return 0


def summarise(
    results: dict[str, list[tuple[float, float, float, int]]], args: argparse.Namespace
) -> str:
    ratios = [g[0] / b[0] for g, b in zip(results["generated"], results["bare"], strict=True)]
    lines = [
        f"concurrency {args.concurrency}, one sentence per request, {args.rounds} rounds of "
        f"{args.duration:g} s; median round:",
        "",
        "| server | requests/s | p50 ms | p99 ms | errors |",
        "|---|---:|---:|---:|---:|",
    ]
    for name, label in (
        ("generated", "generated, MODEL_STUB=zero-cost"),
        ("bare", "bare ASGI app"),
    ):
        runs = results[name]
        mid = sorted(runs)[len(runs) // 2]
        lines.append(
            f"| {label} | {mid[0]:.0f} | {mid[1]:.1f} | {mid[2]:.1f} | {sum(r[3] for r in runs)} |"
        )
    lines += [
        "",
        f"generated / bare, per round: {', '.join(f'{r:.2f}' for r in ratios)} "
        f"(median {statistics.median(ratios):.2f}x)",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
