"""``export-onnx``: export the configured model to ONNX behind the parity gate."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from ..errors import fail
from ..settings import get_settings

BUNDLE_TASKS = ("feature-extraction", "text-classification")


def _progress_step(console: Any) -> Callable[[str], AbstractContextManager[None]]:
    """One spinner line per step, then a tick with its duration (rich, on stderr)."""

    @contextmanager
    def step(title: str) -> Iterator[None]:
        started = time.perf_counter()
        with console.status(f"[bold]{title}..."):
            yield
        console.print(f"[green]done[/] {title} ({time.perf_counter() - started:.1f} s)")

    return step


def _parse_batch_sizes(value: str) -> list[int]:
    try:
        sizes = [int(part) for part in value.split(",") if part.strip()]
    except ValueError:
        raise typer.BadParameter(f"{value!r}: give batch sizes as numbers, e.g. 1,8,32") from None
    if not sizes or min(sizes) < 1:
        raise typer.BadParameter(f"{value!r}: give one or more positive batch sizes, e.g. 1,8,32")
    return sizes


def register(app: typer.Typer, group: Callable[[str, str], typer.Typer]) -> None:
    @app.command("export-onnx")
    def export_onnx_command(
        output: Annotated[
            Optional[Path], typer.Option(help="Output directory (default: ONNX_PATH's folder)")
        ] = None,
        opset: Annotated[
            Optional[int], typer.Option(help="ONNX opset (default: the exporter's choice)")
        ] = None,
        exporter: Annotated[str, typer.Option(help="auto | optimum | torch")] = "auto",
        int8: Annotated[str, typer.Option(help="auto | dynamic | blockwise | off")] = "auto",
        int8_min_speedup: Annotated[
            float, typer.Option(min=0.0, help="int8 must be this much faster than fp32")
        ] = 1.1,
        optimize: Annotated[bool, typer.Option(help="Fuse attention and layer norms")] = True,
        samples: Annotated[int, typer.Option(min=1, help="Generated gate samples")] = 128,
        samples_file: Annotated[
            Optional[Path],
            typer.Option(exists=True, dir_okay=False, help="Gate on these texts (one per line)"),
        ] = None,
        batch_sizes: Annotated[str, typer.Option(help="Report latency at these sizes")] = "1,8,32",
        seq_len: Annotated[int, typer.Option(min=1, help="Tokens per input when timing")] = 128,
        bench_seconds: Annotated[float, typer.Option(min=0.0, help="Time budget per cell")] = 2.0,
        threads: Annotated[
            Optional[int], typer.Option(min=1, help="CPU threads for torch and onnxruntime")
        ] = None,
        bundle: Annotated[
            Optional[Path], typer.Option(help="Also write an edge bundle to this directory")
        ] = None,
        check_only: Annotated[
            Optional[Path],
            typer.Option(exists=True, dir_okay=False, help="Only re-run the gate on this .onnx"),
        ] = None,
    ) -> None:
        """Export to ONNX; fail unless it matches torch; add int8 only if accurate and faster."""
        from rich.console import Console

        from .bundle import write_bundle
        from .convert import ExportError
        from .onnx import ExportFailed, ExportOptions, check_onnx, export_onnx

        settings = get_settings()
        console = Console(stderr=True)
        texts = []
        if samples_file is not None:
            texts = [t for t in samples_file.read_text(encoding="utf-8").splitlines() if t.strip()]
            if not texts:
                raise typer.BadParameter(f"{samples_file} has no non-empty lines")
        options = ExportOptions(
            source=settings.model_source,
            revision=None if settings.model_dir else settings.model_revision,
            task=settings.task,
            output=output or Path(settings.onnx_path).parent,
            max_seq_length=settings.max_seq_length,
            opset=opset,
            exporter=exporter,
            optimize=optimize,
            int8=int8,
            int8_min_speedup=int8_min_speedup,
            samples=texts,
            sample_count=samples,
            batch_sizes=_parse_batch_sizes(batch_sizes),
            seq_len=seq_len,
            bench_budget_s=bench_seconds,
            threads=threads,
        )
        if check_only is not None:
            gate = check_onnx(options, check_only)
            console.print(f"parity gate {'PASSED' if gate.passed else 'FAILED'}: {gate.metrics}")
            for failure in gate.failures:
                console.print(f"[red]- {failure}")
            raise typer.Exit(0 if gate.passed else 1)
        if bundle is not None and settings.task not in BUNDLE_TASKS:
            raise typer.BadParameter(
                f"--bundle serves {' and '.join(BUNDLE_TASKS)}, not {settings.task}"
            )
        try:
            report = export_onnx(options, step=_progress_step(console))
        except ExportFailed as failed:
            raise fail(f"export refused: {failed} (report: {failed.report_path})") from None
        except (ValueError, ExportError) as exc:
            raise fail(f"export failed: {exc}", code=2) from None
        console.print(f"[green bold]export passed[/]: {options.output / 'model.onnx'}")
        for attempt in report.int8_attempts:
            verdict = "[green]accepted" if attempt.accepted else "[yellow]refused"
            console.print(f"int8 {attempt.scheme}: {verdict}[/]: {attempt.reason}")
        console.print(
            f"int8: {report.int8_scheme or 'not shipped'}; report: {options.output / 'report.md'}"
        )
        if bundle is not None:
            write_bundle(options.output, bundle, report)
            console.print(f"edge bundle: {bundle} (see {bundle / 'README.md'})")
