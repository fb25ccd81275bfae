"""``predict``: texts through the same engine and settings as the server, without HTTP.

The Kueue batch Job runs this command in the serving image, so batch work is batched,
length-grouped and isolated exactly as requests to the server are: ``MAX_BATCH_SIZE``,
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
) -> None:
    """Queue ``inputs`` in chunks the queue can hold; write one JSON line per input, in order."""
    from ..runtime.workers import worker_layout
    from .batcher import Batcher

    engine = Batcher(
        lambda: predictor,
        max_batch_size=settings.max_batch_size,
        max_wait_s=settings.max_batch_wait_ms / 1000,
        max_queue_items=settings.max_queue_items,
        workers=worker_layout(settings).workers,
    )
    engine.start()
    chunk = min(settings.max_queue_items, settings.max_inputs_per_request)
    try:
        for start in range(0, len(inputs), chunk):
            part = inputs[start : start + chunk]
            answer = await engine.submit(part, timeout_s=settings.request_timeout_s * len(part))
            for text, result in zip(part, answer.outputs, strict=True):
                sink.write(json.dumps({"input": text, "output": result}) + "\n")
    finally:
        await engine.stop(timeout_s=settings.drain_timeout_s)


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
    from ..errors import InputTooLongError, fail
    from ..runtime.load import load_predictor

    inputs = read_inputs(texts or [], input_file)
    if not inputs:
        raise typer.BadParameter("give texts as arguments or an --input-file")
    settings = get_settings()
    predictor = load_predictor(settings)
    sink = output.open("w", encoding="utf-8") if output else sys.stdout
    try:
        asyncio.run(run_through_engine(settings, predictor, inputs, sink))
    except InputTooLongError as exc:
        raise fail(exc) from None
    finally:
        if output:
            sink.close()


def register(app: typer.Typer, group: Callable[[str, str], typer.Typer]) -> None:
    app.command()(predict)
