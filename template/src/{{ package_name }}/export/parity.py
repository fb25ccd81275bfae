"""The parity gate: an exported graph ships only if it agrees with torch on the samples.

Both sides get the same token ids (from the exported ``tokenizer.json``, checked against
the model's own tokenizer first), and are compared with the task's measure:

- feature-extraction: the pooled, normalised embeddings (max abs diff and min cosine);
- text-classification: the top label (agreement) and the probabilities (max abs diff);
- text-generation: the next token after each prompt (agreement).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..runtime.edge_runner import OnnxTextModel, mean_pool, softmax

GATE_BATCH = 16


@dataclass(frozen=True)
class Tolerance:
    min_cosine: float | None = None
    max_abs_diff: float | None = None
    min_agreement: float | None = None


#: (task, precision) -> what the graph must achieve against torch on every sample set.
TOLERANCES: dict[tuple[str, str], Tolerance] = {
    ("feature-extraction", "fp32"): Tolerance(min_cosine=0.9999, max_abs_diff=1e-4),
    ("feature-extraction", "int8"): Tolerance(min_cosine=0.99, max_abs_diff=0.1),
    ("text-classification", "fp32"): Tolerance(min_agreement=1.0, max_abs_diff=1e-3),
    ("text-classification", "int8"): Tolerance(min_agreement=0.98, max_abs_diff=0.1),
    ("text-generation", "fp32"): Tolerance(min_agreement=1.0),
    ("text-generation", "int8"): Tolerance(min_agreement=0.9),
}


@dataclass
class GateResult:
    precision: str
    passed: bool
    samples: int
    metrics: dict[str, float]
    tolerance: dict[str, float | None]
    failures: list[str] = field(default_factory=list)
    worst: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Reference:
    """Torch outputs on the samples, computed once and reused for every candidate graph."""

    texts: list[str]
    batches: list[dict[str, np.ndarray]]
    outputs: np.ndarray
    tokenizer_problems: list[str]


def _head(task: str, raw: np.ndarray, inputs: dict[str, np.ndarray]) -> np.ndarray:
    """The task's comparable output from a raw model output."""
    if task == "feature-extraction":
        return mean_pool(raw, inputs["attention_mask"])
    if task == "text-classification":
        return softmax(raw)
    last = inputs["attention_mask"].sum(axis=1) - 1  # right padding: the last real token
    logits: np.ndarray = raw[np.arange(raw.shape[0]), last]
    return logits


def _tokenizer_problems(tokenizer: Any, runtime: OnnxTextModel, texts: list[str]) -> list[str]:
    expected = tokenizer(texts, truncation=True, max_length=runtime.max_seq_length)["input_ids"]
    problems = []
    for index, (ids, encoding) in enumerate(
        zip(expected, runtime._encoder.encode_batch(texts), strict=True)
    ):
        real = [i for i, m in zip(encoding.ids, encoding.attention_mask, strict=True) if m]
        if list(ids) != real:
            problems.append(
                f"tokenizer.json encodes sample {index} ({texts[index][:40]!r}) "
                "differently from the model's tokenizer"
            )
    return problems[:5]


def reference_outputs(
    model: Any, tokenizer: Any, runtime: OnnxTextModel, task: str, texts: list[str]
) -> Reference:
    """Run torch on the samples, encoded exactly as the runtime encodes them."""
    import torch

    batches, outputs = [], []
    for start in range(0, len(texts), GATE_BATCH):
        inputs = runtime.encode(texts[start : start + GATE_BATCH])
        with torch.inference_mode():
            raw = model(**{k: torch.from_numpy(v) for k, v in inputs.items()})
        name = "last_hidden_state" if task == "feature-extraction" else "logits"
        batches.append(inputs)
        outputs.append(_head(task, getattr(raw, name).float().numpy(), inputs))
    problems = _tokenizer_problems(tokenizer, runtime, texts)
    return Reference(texts, batches, np.concatenate(outputs), problems)


def run_gate(onnx_path: Path, reference: Reference, task: str, precision: str) -> GateResult:
    """Compare ``onnx_path`` with the torch reference; ``passed`` is False on any miss."""
    runtime = OnnxTextModel(onnx_path)
    got = np.concatenate(
        [_head(task, runtime.forward(inputs), inputs) for inputs in reference.batches]
    )
    want = reference.outputs
    tol = TOLERANCES[(task, precision)]
    metrics: dict[str, float] = {}
    per_sample: np.ndarray
    failures = list(reference.tokenizer_problems)
    if task == "feature-extraction":
        per_sample = (got * want).sum(axis=1) / np.clip(
            np.linalg.norm(got, axis=1) * np.linalg.norm(want, axis=1), 1e-12, None
        )
        metrics["min_cosine"] = float(per_sample.min())
        metrics["mean_cosine"] = float(per_sample.mean())
    else:
        per_sample = (got.argmax(axis=1) == want.argmax(axis=1)).astype(np.float64)
        metrics["agreement"] = float(per_sample.mean())
    if task != "text-generation":
        metrics["max_abs_diff"] = float(np.abs(got - want).max())
    if tol.min_cosine is not None and metrics["min_cosine"] < tol.min_cosine:
        failures.append(f"min cosine {metrics['min_cosine']:.5f} < {tol.min_cosine}")
    if tol.min_agreement is not None and metrics["agreement"] < tol.min_agreement:
        what = "next-token" if task == "text-generation" else "label"
        failures.append(f"{what} agreement {metrics['agreement']:.4f} < {tol.min_agreement}")
    if tol.max_abs_diff is not None and metrics["max_abs_diff"] > tol.max_abs_diff:
        failures.append(f"max abs diff {metrics['max_abs_diff']:.2e} > {tol.max_abs_diff:.0e}")
    order = np.argsort(per_sample)[:3]
    worst = [{"text": reference.texts[i][:120], "score": float(per_sample[i])} for i in order]
    return GateResult(
        precision=precision,
        passed=not failures,
        samples=len(reference.texts),
        metrics=metrics,
        tolerance=asdict(tol),
        failures=failures,
        worst=worst,
    )
