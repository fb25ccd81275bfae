"""The report: each system's median round, the paired ratios, and the markdown tables."""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass, replace

from . import MAX_BATCH
from .servers import TWO_WORKERS

OTHERS = {
    "naive-fastapi": "naive",
    "bentoml": "BentoML",
    "bentoml-2w": "BentoML 2w",
    "litserve": "LitServe",
    "litserve-2w": "LitServe 2w",
    "infinity": "Infinity",
}

#: (size, concurrency) -> (a, a2) or (a, a2, s, s2): 'x limit' divides by a, 'x best limit' by
#: the largest
Limits = dict[tuple[int, int], tuple[float, ...]]
LIMIT_NAMES = ("(a)", "(a2)", "(s)", "(s2)")
Rounds = dict[tuple[str, int, int], list[float]]  # (system, size, concurrency) -> sentences/s


@dataclass
class Cell:
    system: str
    size: int
    concurrency: int
    sentences_per_s: float
    p50_ms: float
    p99_ms: float
    requests: int  # answered with a success status
    errors: int  # error statuses and socket errors (connect, read, write, timeout)
    #: over the whole run, the ramp included (sentences_per_s is the steady rate: load.py)
    whole_run_per_s: float = math.nan
    steady: bool = True  # False: the run had no steady window; sentences_per_s is the whole run's


def table(cells: list[Cell], limits: Limits) -> str:
    lines = [
        "| system | sentences/request | concurrency | sentences/s | x limit | x best limit "
        "| whole run | p50 ms | p99 ms | requests | errors |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for c in cells:
        measured = limits[(c.size, c.concurrency)]
        limit, best = measured[0], max(measured)
        lines.append(
            f"| {c.system} | {c.size} | {c.concurrency} "
            f"| {c.sentences_per_s:.0f}{'' if c.steady else '*'} "
            f"| {c.sentences_per_s / limit:.2f} | {c.sentences_per_s / best:.2f} "
            f"| {c.whole_run_per_s:.0f} | {c.p50_ms:.0f} | {c.p99_ms:.0f} "
            f"| {c.requests} | {c.errors} |"
        )
    return "\n".join(lines)


def median_cell(runs: list[Cell]) -> Cell:
    """The median round by throughput (the upper one for an even count); errors of all."""
    ordered = sorted(runs, key=lambda c: c.sentences_per_s)
    return replace(ordered[len(ordered) // 2], errors=sum(c.errors for c in runs))


def summary(cells: list[Cell], rounds: Rounds | None = None) -> str:
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


def cell_line(cell: Cell, limit: float, best: float) -> str:
    """One progress line, printed as each cell finishes."""
    return (
        f"{cell.system:14} size={cell.size:2} c={cell.concurrency:2}: "
        f"{cell.sentences_per_s:6.0f} sent/s "
        f"({cell.sentences_per_s / limit:.2f}x limit, "
        f"{cell.sentences_per_s / best:.2f}x best limit; whole run {cell.whole_run_per_s:.0f}) "
        f"p50={cell.p50_ms:.0f} ms p99={cell.p99_ms:.0f} ms "
        f"errors={cell.errors}"
    )


def report(
    cells: list[Cell],
    limits: Limits,
    rounds: Rounds,
    *,
    threads: int,
    replicas: int,
    n_rounds: int,
    duration: float,
    arrival: Limits | None = None,
) -> str:
    """The whole markdown report, as written to --output. ``arrival``: on real text, the
    limits in arrival order (``limits`` are then those of batches sorted by length)."""
    replica_threads = max(1, threads // replicas)
    return (
        f"torch threads: {threads}; {n_rounds} rounds of {duration:g} s per cell; "
        "each row is the system's median round (sentences/s, p50, p99), errors are summed over "
        "all rounds. Both limits are measured beside each cell in every round (median "
        "reported) on the sentences that cell sends, in batches of "
        f"{MAX_BATCH}: (a) one model with {threads} torch threads; (a2) "
        f"{replicas} replicas, each run by its own thread with {replica_threads} torch "
        "thread(s); (s), (s2) the same layouts running the generated server's own model code "
        "(its predictor: the packed forward) where measured. 'x limit' divides by (a), "
        "'x best limit' by the largest. The '-2w' "
        f"variants run {TWO_WORKERS} worker processes of "
        f"{max(1, threads // TWO_WORKERS)} torch thread(s) each. The load: wrk, closed loop, "
        "one connection per client. sentences/s is the steady rate: answers counted per "
        "second, the seconds before the run's own p99 response time (the ramp: every client "
        "starts at once) left out; 'whole run' counts every second; * marks a run too short "
        "for a steady window (its whole-run rate).\n\n"
        + (
            "On real text the limits are those of the corpus in batches sorted by length "
            "(the least padding possible); in arrival order beside them.\n\n"
            if arrival
            else ""
        )
        + "\n".join(
            f"- limits at {s} sentence(s)/request, concurrency {c}: "
            + ", ".join(f"{name} {v:.0f}" for name, v in zip(LIMIT_NAMES, values, strict=False))
            + " sentences/s"
            + (
                f"; in arrival order (a) {arrival[(s, c)][0]:.0f}, (a2) {arrival[(s, c)][1]:.0f}"
                if arrival and (s, c) in arrival
                else ""
            )
            for (s, c), values in limits.items()
        )
        + "\n\n"
        + table(cells, limits)
        + "\n\nGenerated server throughput relative to the others (median over the rounds of "
        "the ratio measured within each round):\n\n" + summary(cells, rounds)
    )
