"""``predict``: texts through the same engine and settings as the server, without HTTP.

The Kueue batch Job runs this command in the serving image, so batch work is batched and
limited exactly as requests to the server are: ``MAX_BATCH_SIZE``,
``MAX_BATCH_WAIT_MS``, ``MODEL_WORKERS`` and ``MAX_QUEUE_ITEMS`` apply here too.
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import IO, Annotated, Any, Optional

import typer

from ..settings import Settings, get_settings


def read_inputs(texts: list[str], input_file: Path | None) -> list[str]:
    """Arguments, or the lines of a .txt file, or the ``text`` of each .jsonl line."""
    if input_file is None:
        return texts
    lines = [line for line in input_file.read_text(encoding="utf-8").splitlines() if line.strip()]
    if input_file.suffix == ".jsonl":
        return [json.loads(line)["text"] for line in lines]
    return lines


async def run_through_engine(
    settings: Settings, predictor: Any, inputs: list[str], sink: IO[str]
) -> int:
    """One request per input, as many in flight as the queue holds; one JSON line per input,
    in order: ``{"input", "output"}`` or ``{"input", "error"}``. Returns how many failed.

    A bad input (too long, say) fails only its own line, as it fails only its own request
    in the server."""
    from ..runtime.workers import worker_layout
    from .build import build_engine

    engine = build_engine(settings, lambda: predictor, workers=worker_layout(settings).workers)
    engine.start()
    failed = 0
    try:
        for start in range(0, len(inputs), settings.max_queue_items):
            window = inputs[start : start + settings.max_queue_items]
            tickets = [
                engine.enqueue([text], timeout_s=settings.request_timeout_s * len(window))
                for text in window
            ]
            for text, ticket in zip(window, tickets, strict=True):
                try:
                    line = {"input": text, "output": (await ticket.wait()).outputs[0]}
                except Exception as exc:  # reported on the input's own line, as in the server
                    failed += 1
                    line = {"input": text, "error": str(exc)}
                sink.write(json.dumps(line) + "\n")
    finally:
        await engine.stop(timeout_s=settings.drain_timeout_s)
    return failed


def predict(
    texts: Annotated[
        Optional[list[str]], typer.Argument(help="Texts to run through the model")
    ] = None,
    input_file: Annotated[
        Optional[Path],
        typer.Option(
            "--input-file",
            "-i",
            exists=True,
            dir_okay=False,
            help='.txt (a text per line) or .jsonl ({"text": ...})',
        ),
    ] = None,
    output: Annotated[
        Optional[Path], typer.Option("--output", "-o", help="Write JSON lines here")
    ] = None,
) -> None:
    """Run the model in-process (no server) and print one JSON line per input."""
    from ..errors import fail
    from ..runtime.load import load_predictor

    inputs = read_inputs(texts or [], input_file)
    if not inputs:
        raise typer.BadParameter("give texts as arguments or an --input-file")
    settings = get_settings()
    predictor = load_predictor(settings)
    sink = output.open("w", encoding="utf-8") if output else sys.stdout
    try:
        failed = asyncio.run(run_through_engine(settings, predictor, inputs, sink))
    finally:
        if output:
            sink.close()
    if failed:
        raise fail(f"{failed} of {len(inputs)} inputs failed: see their error lines")


def register(app: typer.Typer, group: Callable[[str, str], typer.Typer]) -> None:
    app.command()(predict)
