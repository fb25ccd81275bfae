"""How close to the sorted limit grouping can get with N inputs in flight, in process.

A server under closed-loop load holds at most concurrency x sentences-per-request inputs
at once, and can only group a batch from those. This measures the real-length corpus
(corpus.py) without HTTP, in batches formed as the best grouping at each depth would form
them (limits.py ``depthN``: each N arrivals sorted by length, cut into batches of
min(MAX_BATCH, N // 2) for two model workers), beside arrival order and the whole corpus
sorted, and prints each as a ratio of the sorted limit measured in the same round:

    .venv/bin/python -m benchmarks.serving.depth --depths 32,512 --rounds 3 --duration 6

Depth 32 is concurrency 32 with one sentence a request, 512 is 16 sentences a request.
``--model server`` runs the generated server's own model code (the template rendered with its
defaults: the packed forward) instead of the shared padded embedder; every ratio is then to
that code's own sorted limit.
The layout is the generated server's on a CPU: --replicas models of threads // replicas
torch threads, each run by its own thread (the (a2) limit of the serving benchmark).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

from . import model_path, rotation
from .limits import Limit
from .servers import render_generated


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.serving.depth", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--depths", default="32,512", help="inputs in flight, comma-separated")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--duration", type=float, default=6.0, help="seconds per measurement")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--replicas", type=int, default=2)
    parser.add_argument(
        "--model",
        choices=["shared", "server"],
        default="shared",
        help="shared: the benchmark's padded embedder; server: the generated server's own code",
    )
    args = parser.parse_args(argv)
    try:
        args.depths = [int(d) for d in args.depths.split(",")]
    except ValueError:
        parser.error(f"--depths takes whole numbers separated by commas, not {args.depths!r}")
    if any(d < 2 for d in args.depths):
        parser.error("every depth must be at least 2")
    return args


def table(orders: list[str], rates: dict[str, list[float]]) -> str:
    """Markdown: each order's median sentences/s and the median of its per-round ratio to
    the sorted limit measured in the same round."""
    lines = [
        "| batches | sentences/s (median) | x sorted (median of rounds) | per round |",
        "|---|---:|---:|---|",
    ]
    for order in orders:
        ratios = [r / s for r, s in zip(rates[order], rates["sorted"], strict=True)]
        per_round = ", ".join(f"{r:.2f}" for r in ratios)
        lines.append(
            f"| {order} | {statistics.median(rates[order]):.0f} | "
            f"{statistics.median(ratios):.2f} | {per_round} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    model_dir = model_path()
    orders = ["arrival", *(f"depth{d}" for d in args.depths), "sorted"]
    rates: dict[str, list[float]] = {order: [] for order in orders}
    threads = max(1, args.threads // args.replicas)
    with tempfile.TemporaryDirectory(prefix="depth-") as tmp:
        own = None
        if args.model == "server":
            project, package = render_generated(Path(tmp))
            own = (project / "src", package)
        try:
            limit = Limit(model_dir, args.replicas, threads, Path(tmp) / "limit.log", own)
        except RuntimeError as exc:  # the model did not load: the log says why
            print(f"error: {exc}", file=sys.stderr)
            return 2
        try:
            for round_ in range(args.rounds):
                for order in rotation(orders, round_):
                    rate = limit.measure(0, args.duration, "real", order)
                    rates[order].append(rate)
                    print(f"round {round_ + 1} {order:>10}: {rate:6.0f} sentences/s", flush=True)
        finally:
            limit.close()
    print(
        f"\n{args.model} model code, {args.replicas} replicas x {threads} torch thread(s), "
        f"{args.rounds} rounds of {args.duration:g} s:\n"
    )
    print(table(orders, rates))
    return 0


if __name__ == "__main__":
    sys.exit(main())
