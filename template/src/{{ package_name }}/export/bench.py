"""Latency of torch, ONNX fp32 and ONNX int8 per batch size, measured side by side.

Each cell is the median of repeated runs within a time budget, the runtimes interleaved
per batch size so that a noisy neighbour slows them all alike. Inputs are real token ids
(sample text repeated to the sequence length), not zeros.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

Runner = Callable[[dict[str, np.ndarray]], Any]


@dataclass
class LatencyRow:
    batch_size: int
    seq_len: int
    median_ms: dict[str, float]

    def speedup(self, name: str, baseline: str = "torch") -> float | None:
        if name not in self.median_ms or baseline not in self.median_ms:
            return None
        return self.median_ms[baseline] / self.median_ms[name]


def median_ms(
    fn: Callable[[], Any], budget_s: float, min_runs: int = 3, max_runs: int = 200
) -> float:
    """Median wall time of ``fn`` in milliseconds (one untimed warm-up call first)."""
    fn()
    times: list[float] = []
    deadline = time.perf_counter() + budget_s
    while len(times) < max_runs and (len(times) < min_runs or time.perf_counter() < deadline):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return float(np.median(times))


def interleaved_ms(
    runners: dict[str, Runner],
    inputs: list[dict[str, np.ndarray]],
    budget_s: float,
    min_rounds: int = 3,
) -> dict[str, float]:
    """Median ms per runner; every input runs on each runner in turn (cycling until the budget)."""
    times: dict[str, list[float]] = {name: [] for name in runners}
    for run in runners.values():
        run(inputs[0])  # warm-up
    deadline = time.perf_counter() + budget_s
    rounds = 0
    while rounds < min_rounds or (time.perf_counter() < deadline and rounds < len(inputs) * 4):
        item = inputs[rounds % len(inputs)]
        for name, run in runners.items():
            start = time.perf_counter()
            run(item)
            times[name].append((time.perf_counter() - start) * 1000)
        rounds += 1
    return {name: float(np.median(values)) for name, values in times.items()}


def fixed_length_inputs(
    encode: Callable[[list[str]], dict[str, np.ndarray]], text: str, batch: int, seq_len: int
) -> dict[str, np.ndarray]:
    """``batch`` rows of exactly ``seq_len`` real tokens (no padding)."""
    long_text = " ".join([text] * (seq_len // 2 + 8))
    row = encode([long_text])
    return {name: np.repeat(value[:, :seq_len], batch, axis=0) for name, value in row.items()}


def latency_table(
    runners: dict[str, Runner],
    encode: Callable[[list[str]], dict[str, np.ndarray]],
    text: str,
    batch_sizes: list[int],
    seq_len: int,
    budget_s: float,
) -> list[LatencyRow]:
    rows = []
    for batch in batch_sizes:
        inputs = fixed_length_inputs(encode, text, batch, seq_len)
        cells = {
            name: median_ms(lambda run=run, inputs=inputs: run(inputs), budget_s)  # type: ignore[misc]
            for name, run in runners.items()
        }
        rows.append(LatencyRow(batch, int(next(iter(inputs.values())).shape[1]), cells))
    return rows


def torch_runner(model: Any) -> Runner:
    import torch

    def run(inputs: dict[str, np.ndarray]) -> Any:
        with torch.inference_mode():
            return model(**{k: torch.from_numpy(v) for k, v in inputs.items()})

    return run
