"""``export-onnx``: export, fuse, gate against torch, quantize behind the gate, report.

The export happens in a staging directory. Only when the fp32 graph passes the parity
gate are its files moved to the output directory; otherwise they go to
``<output>/rejected/`` with the report, any previous good export stays untouched, and
:class:`ExportFailed` is raised (the CLI exits 1). int8 is optional: a scheme that misses
the gate or is not faster than fp32 on this CPU is refused and the reason reported.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from . import bench, convert, parity, quantize
from .report import ExportReport, Int8Attempt, environment
from .samples import varied_sentences

INT8_CHOICES = ("auto", "dynamic", "blockwise", "off")
RUNTIME_FILES = ("model.onnx", "model.int8.onnx", "tokenizer.json", "onnx_meta.json")
BENCH_TEXT = "The quick brown fox jumps over the lazy dog while the market rose sharply."

Step = Callable[[str], AbstractContextManager[None]]


@dataclass
class ExportOptions:
    source: str
    task: str
    output: Path
    max_seq_length: int
    revision: str | None = None
    opset: int | None = None
    exporter: str = "auto"
    optimize: bool = True
    int8: str = "auto"
    int8_min_speedup: float = 1.1
    samples: list[str] = field(default_factory=list)
    sample_count: int = 128
    batch_sizes: list[int] = field(default_factory=lambda: [1, 8, 32])
    seq_len: int = 128
    bench_budget_s: float = 2.0
    threads: int | None = None  # torch and onnxruntime threads when timing (None: their default)


class ExportFailed(RuntimeError):
    """The export missed the parity gate (or failed); ``report`` says why."""

    def __init__(self, report: ExportReport, report_path: Path) -> None:
        super().__init__("; ".join(report.failures) or "export failed")
        self.report, self.report_path = report, report_path


@contextmanager
def _quiet_step(_: str) -> Iterator[None]:
    yield


def _sizes(directory: Path) -> dict[str, float]:
    return {
        name: round((directory / name).stat().st_size / 1e6, 2)
        for name in RUNTIME_FILES
        if (directory / name).is_file()
    }


def _set_int8_file(staging: Path, name: str | None) -> None:
    import json

    meta_path = staging / "onnx_meta.json"
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    meta["files"]["int8"] = name
    meta_path.write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")


def _try_int8(
    opts: ExportOptions, staging: Path, reference: parity.Reference, report: ExportReport,
    step: Step, timings: Callable[[Path], tuple[float, float]],
) -> None:  # fmt: skip
    schemes = quantize.SCHEMES if opts.int8 == "auto" else (opts.int8,)
    for scheme in schemes:
        candidate = staging / f"int8-{scheme}.onnx"
        try:
            with step(f"int8 {scheme}: quantizing"):
                quantize.quantize(staging / "model.onnx", candidate, scheme)
        except quantize.QuantizationUnavailable as exc:
            report.int8_attempts.append(Int8Attempt(scheme, False, str(exc)))
            continue
        with step(f"int8 {scheme}: parity gate"):
            gate = parity.run_gate(candidate, reference, opts.task, "int8")
        attempt = Int8Attempt(scheme, False, "missed the parity gate", gate)
        report.int8_attempts.append(attempt)
        if not gate.passed:
            candidate.unlink()
            continue
        with step(f"int8 {scheme}: speed guard"):
            verdict = quantize.speed_guard(*timings(candidate), opts.int8_min_speedup)
        attempt.speedup_vs_fp32, attempt.reason = round(verdict.speedup, 3), verdict.message
        if not verdict.faster:
            candidate.unlink()
            continue
        attempt.accepted = True
        candidate.rename(staging / "model.int8.onnx")
        report.int8_scheme = scheme
        _set_int8_file(staging, "model.int8.onnx")
        return


def _publish(staging: Path, output: Path) -> None:
    output.mkdir(parents=True, exist_ok=True)
    for name in (*RUNTIME_FILES, "report.json", "report.md"):
        target = output / name
        if target.exists():
            target.unlink()
        if (staging / name).is_file():
            shutil.move(str(staging / name), target)


def export_onnx(opts: ExportOptions, step: Step = _quiet_step) -> ExportReport:
    """Run the whole export; return the report, or raise :class:`ExportFailed`."""
    from ..runtime.edge_runner import OnnxTextModel

    if opts.int8 not in INT8_CHOICES:
        raise ValueError(f"--int8 must be one of {', '.join(INT8_CHOICES)} (got {opts.int8!r})")
    convert.check_opset(opts.opset)
    if opts.threads:
        import torch

        torch.set_num_threads(opts.threads)
    report = ExportReport("failed", opts.source, opts.task, int8_requested=opts.int8)
    report.environment = environment()
    opts.output.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".staging-", dir=opts.output) as tmp:
        staging = Path(tmp)
        try:
            with step("loading the model"):
                loaded = convert.load(opts.source, opts.revision, opts.task)
            with step("exporting to ONNX"):
                converted = convert.export_graph(
                    loaded, opts.task, staging, opts.opset, opts.exporter
                )
            report.exporter, report.opset = converted.exporter, converted.opset
            convert.write_runtime_files(loaded, opts.task, opts.max_seq_length, staging)
            if opts.optimize:
                with step("fusing attention"):
                    convert.fuse_attention(converted, loaded.model_type, loaded.reference.config)
            report.fusion, report.notes = converted.fusion, converted.notes
            texts = opts.samples or varied_sentences(opts.sample_count)
            fp32 = OnnxTextModel(staging / "model.onnx")
            with step(f"torch reference on {len(texts)} samples"):
                reference = parity.reference_outputs(
                    loaded.reference, loaded.tokenizer, fp32, opts.task, texts
                )
            with step("fp32 parity gate"):
                report.gate = parity.run_gate(staging / "model.onnx", reference, opts.task, "fp32")
        except convert.ExportError as exc:
            report.error = str(exc)
        if report.gate is None or not report.gate.passed:
            report.files_mb = _sizes(staging)
            rejected = opts.output / "rejected"
            _publish(staging, rejected)
            raise ExportFailed(report, report.write(rejected))

        def timings(candidate: Path) -> tuple[float, float]:
            """fp32 and int8 at batch 1 on the sample texts, interleaved call by call."""
            fast = OnnxTextModel(candidate, threads=opts.threads)
            base = OnnxTextModel(staging / "model.onnx", threads=opts.threads)
            singles = [base.encode([text]) for text in texts[:64]]
            ms = bench.interleaved_ms(
                {"fp32": base.forward, "int8": fast.forward}, singles, opts.bench_budget_s
            )
            return ms["fp32"], ms["int8"]

        if opts.int8 != "off":
            _try_int8(opts, staging, reference, report, step, timings)
        with step("timing torch, fp32 and int8"):
            runners: dict[str, bench.Runner] = {"torch": bench.torch_runner(loaded.reference)}
            runners["onnx-fp32"] = OnnxTextModel(
                staging / "model.onnx", threads=opts.threads
            ).forward
            if report.int8_scheme:
                int8_path = staging / "model.int8.onnx"
                runners["onnx-int8"] = OnnxTextModel(int8_path, threads=opts.threads).forward
            report.latency = bench.latency_table(
                runners, fp32.encode, BENCH_TEXT, opts.batch_sizes, opts.seq_len,
                opts.bench_budget_s,
            )  # fmt: skip
        report.status = "passed"
        report.files_mb = _sizes(staging)
        report.write(staging)
        _publish(staging, opts.output)
    return report


def check_onnx(opts: ExportOptions, onnx_path: Path) -> parity.GateResult:
    """Re-run the fp32 gate on an existing graph (next to its tokenizer.json and metadata)."""
    from ..runtime.edge_runner import OnnxTextModel

    loaded = convert.load(opts.source, opts.revision, opts.task)
    texts = opts.samples or varied_sentences(opts.sample_count)
    runtime = OnnxTextModel(onnx_path)
    reference = parity.reference_outputs(
        loaded.reference, loaded.tokenizer, runtime, opts.task, texts
    )
    return parity.run_gate(onnx_path, reference, opts.task, "fp32")
