"""The export report: what was exported, how well it matches torch, and how fast it is.

Written as ``report.json`` (for CI) and ``report.md`` (for people) next to the model, or
under ``rejected/`` when the gate refused the export.
"""

from __future__ import annotations

import json
import platform
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from .bench import LatencyRow
from .parity import GateResult


@dataclass
class Int8Attempt:
    scheme: str
    accepted: bool
    reason: str
    gate: GateResult | None = None
    speedup_vs_fp32: float | None = None


@dataclass
class ExportReport:
    status: str  # "passed" or "failed"
    source: str
    task: str
    exporter: str = ""
    opset: int | None = None
    fusion: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    files_mb: dict[str, float] = field(default_factory=dict)
    gate: GateResult | None = None
    int8_requested: str = "auto"
    int8_scheme: str | None = None
    int8_attempts: list[Int8Attempt] = field(default_factory=list)
    latency: list[LatencyRow] = field(default_factory=list)
    environment: dict[str, str] = field(default_factory=dict)
    error: str = ""

    @property
    def failures(self) -> list[str]:
        return list(self.gate.failures) if self.gate else ([self.error] if self.error else [])

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        for row, raw in zip(self.latency, data["latency"], strict=True):
            raw["speedup_vs_torch"] = {
                name: row.speedup(name) for name in row.median_ms if name != "torch"
            }
        return data

    def write(self, directory: Path) -> Path:
        directory.mkdir(parents=True, exist_ok=True)
        payload = json.dumps(self.to_dict(), indent=2) + "\n"
        (directory / "report.json").write_text(payload, encoding="utf-8")
        (directory / "report.md").write_text(to_markdown(self), encoding="utf-8")
        return directory / "report.md"


def environment() -> dict[str, str]:
    import onnxruntime

    info = {
        "onnxruntime": onnxruntime.__version__,
        "machine": platform.machine(),
        "processor": platform.processor() or "unknown",
        "python": platform.python_version(),
    }
    try:
        import torch

        info["torch"] = torch.__version__
        info["torch_threads"] = str(torch.get_num_threads())
    except ImportError:
        pass
    return info


def _gate_lines(title: str, gate: GateResult) -> list[str]:
    verdict = "PASSED" if gate.passed else "FAILED"
    metrics = ", ".join(f"{k} {v:.6g}" for k, v in gate.metrics.items())
    limits = ", ".join(f"{k} {v}" for k, v in gate.tolerance.items() if v is not None)
    lines = [f"- **{title}**: {verdict} on {gate.samples} samples: {metrics} (limits: {limits})"]
    lines += [f"  - {failure}" for failure in gate.failures]
    if not gate.passed:
        lines += [f"  - worst: {w['score']:.5f} on {w['text']!r}" for w in gate.worst]
    return lines


def to_markdown(report: ExportReport) -> str:
    lines = [
        f"# ONNX export report: {report.status.upper()}",
        "",
        f"- model: `{report.source}` ({report.task})",
        f"- exporter: {report.exporter or 'n/a'}, opset {report.opset or 'exporter default'}",
        f"- fused operators: {report.fusion or 'none'}",
        f"- int8: requested `{report.int8_requested}`, shipped `{report.int8_scheme or 'no'}`",
    ]
    if report.error:
        lines.append(f"- error: {report.error}")
    lines += [f"- note: {note}" for note in report.notes]
    lines += ["", "## Parity gates (against torch)", ""]
    if report.gate:
        lines += _gate_lines("fp32", report.gate)
    for attempt in report.int8_attempts:
        if attempt.gate:
            lines += _gate_lines(f"int8 {attempt.scheme}", attempt.gate)
        verdict = "accepted" if attempt.accepted else "refused"
        lines.append(f"  - int8 {attempt.scheme} {verdict}: {attempt.reason}")
    if report.files_mb:
        lines += ["", "## Files", "", "| file | MB |", "|---|---:|"]
        lines += [f"| {name} | {size:.1f} |" for name, size in report.files_mb.items()]
    if report.latency:
        names = list(report.latency[0].median_ms)
        lines += ["", "## Latency (median ms, this machine)", ""]
        lines.append("| batch x tokens | " + " | ".join(names) + " | speed-up vs torch |")
        lines.append("|---|" + "---:|" * (len(names) + 1))
        for row in report.latency:
            cells = " | ".join(f"{row.median_ms[n]:.2f}" for n in names)
            ups = ", ".join(
                f"{n} {row.speedup(n):.2f}x" for n in names if n != "torch" and row.speedup(n)
            )
            lines.append(f"| {row.batch_size} x {row.seq_len} | {cells} | {ups or '-'} |")
    env = ", ".join(f"{k} {v}" for k, v in report.environment.items())
    lines += ["", f"Environment: {env}", ""]
    return "\n".join(lines)
