"""What every cloud deploy shares: the error type, confirmation, and waiting with progress."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from ..errors import ConfirmationDeclinedError, DeployError
from ..project import VLLM_ARGS, VLLM_MODEL


def version_stamp() -> str:
    """A sortable, unique-enough suffix for the names of one deploy (millisecond clock)."""
    return datetime.now(UTC).strftime("%Y%m%d-%H%M%S-%f")[:-3]


def settings_env(values: dict[str, object]) -> dict[str, str]:
    """Container env named exactly like the server's Settings (fields it lacks are left out)."""
    from ..settings import ENV_PREFIX, Settings

    def text(value: object) -> str:
        return str(value).lower() if isinstance(value, bool) else str(value)

    return {
        f"{ENV_PREFIX}{name.upper()}": text(value)
        for name, value in values.items()
        if name in Settings.model_fields
    }


def vllm_env(model: str = VLLM_MODEL) -> dict[str, str]:
    """The container environment of the vLLM image (docker/vllm-serve.sh reads it): what to
    load and project.py's VLLM_ARGS, the one list every target runs vLLM with."""
    return {"VLLM_MODEL": model, "VLLM_ARGS": " ".join(VLLM_ARGS)}


def confirm(question: str, *, assume_yes: bool) -> None:
    """Ask before creating billable resources or deleting anything (``--yes`` skips it)."""
    if assume_yes:
        return
    import sys

    if not sys.stdin.isatty():
        raise ConfirmationDeclinedError(
            f"{question} Refusing without a terminal to ask in: pass --yes to confirm."
        )
    import questionary

    if not questionary.confirm(question, default=False).ask():
        raise ConfirmationDeclinedError("Cancelled: nothing was changed.")


@dataclass(frozen=True)
class Status:
    """One observation of a resource that is being created or updated."""

    state: str
    done: bool = False
    failed: bool = False
    reason: str = ""


def wait_for(
    describe: Callable[[], Status],
    *,
    what: str,
    timeout_s: float,
    poll_s: float,
    show_progress: bool = True,
) -> Status:
    """Poll ``describe`` until it reports done or failed, with a spinner and a deadline.

    Cloud waiters poll every 30 s and hide the state; this loop shows it and lets tests
    poll in milliseconds.
    """
    from rich.console import Console

    console = Console(stderr=True, quiet=not show_progress)
    deadline = time.monotonic() + timeout_s
    started = time.monotonic()
    with console.status(f"{what}: starting") as spinner:
        while True:
            status = describe()
            elapsed = int(time.monotonic() - started)
            spinner.update(f"{what}: {status.state} ({elapsed} s)")
            if status.failed:
                raise DeployError(
                    f"{what} failed ({status.state}): {status.reason or 'no reason given'}"
                )
            if status.done:
                console.log(f"{what}: {status.state} after {elapsed} s")
                return status
            if time.monotonic() >= deadline:
                raise DeployError(
                    f"{what} still {status.state} after {timeout_s:.0f} s: it keeps going in the "
                    "cloud; check it in the console, or wait longer with --timeout"
                )
            time.sleep(poll_s)


def image_digest(reference: str) -> str | None:
    """``sha256:...`` of a ``repository@sha256:...`` reference; None for a tag or a placeholder."""
    digest = reference.partition("@")[2]
    return digest if digest.startswith("sha256:") and "<" not in digest else None


class Output:
    """What a deploy command prints: lines for people, or with ``--json`` one JSON object on
    stdout (the progress spinner stays on stderr either way)."""

    def __init__(self, as_json: bool) -> None:
        self.json = as_json
        self.planned: list[dict[str, str]] = []

    def line(self, text: str) -> None:
        if not self.json:
            import typer

            typer.echo(text)

    def steps(self, header: str, steps: list[tuple[str, str]]) -> None:
        """The plan: what will be created, in order (kept for the JSON report)."""
        self.planned = [{"kind": kind, "what": what} for kind, what in steps]
        indent = "  " if header else ""
        if header:
            self.line(header)
        for kind, what in steps:
            self.line(f"{indent}{kind:<16} {what}")

    def done(self, **report: object) -> None:
        if self.json:
            import json

            import typer

            typer.echo(json.dumps({**report, "plan": self.planned}, default=str))
