"""``serve``: the HTTP server until SIGTERM/SIGINT."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Optional

import typer

from ..settings import get_settings


def serve(
    host: Annotated[Optional[str], typer.Option(help="Bind address (default from config)")] = None,
    port: Annotated[Optional[int], typer.Option(help="Port (default from config)")] = None,
) -> None:
    """Run the HTTP server until SIGTERM/SIGINT (SageMaker and Vertex AI ports detected)."""
    from .server import run_server

    settings = get_settings()
    run_server(settings, host=host or settings.listen_host, port=port or settings.listen_port)


def register(app: typer.Typer, group: Callable[[str, str], typer.Typer]) -> None:
    app.command()(serve)
