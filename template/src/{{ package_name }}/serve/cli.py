"""``serve``: the HTTP server until SIGTERM/SIGINT."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, Optional

import typer

from ..settings import get_settings


def serve(
    host: Annotated[Optional[str], typer.Option(help="Bind address (default from config)")] = None,
    port: Annotated[Optional[int], typer.Option(help="Port (default from config)")] = None,
) -> None:
    """Run the HTTP server until SIGTERM/SIGINT (SageMaker and Vertex AI ports detected)."""
    from pydantic import ValidationError

    from ..errors import fail

    try:
        settings = get_settings()
    except ValidationError as exc:  # one clear line per problem, exit code 2, no traceback
        problems = "; ".join(_describe(error) for error in exc.errors())
        raise fail(f"invalid configuration: {problems}", code=2) from None
    from .server import run_server

    run_server(settings, host=host or settings.listen_host, port=port or settings.listen_port)


def _describe(error: Any) -> str:
    where = ".".join(str(part) for part in error.get("loc", ()))
    message = str(error.get("msg", "invalid")).removeprefix("Value error, ")
    return f"{where}: {message}" if where else message


def register(app: typer.Typer, group: Callable[[str, str], typer.Typer]) -> None:
    app.command()(serve)
