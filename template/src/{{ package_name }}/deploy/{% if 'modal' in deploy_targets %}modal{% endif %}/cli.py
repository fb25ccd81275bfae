"""``deploy modal`` and ``destroy modal``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

import typer

from ...errors import DeployError, fail

STARTUP_WAIT_S = 1200.0


def require_token() -> None:
    """Fail before anything happens when no Modal token is configured."""
    from modal.config import config

    if not (config.get("token_id") and config.get("token_secret")):
        raise DeployError(
            "No Modal token found: run `modal token new` (or `modal setup`), or set "
            "MODAL_TOKEN_ID and MODAL_TOKEN_SECRET."
        )


def describe() -> list[str]:
    from . import app as m

    return [
        f"app       {m.APP_NAME} (class Service: method predict, web endpoint web)",
        f"gpu       {m.GPU or 'none (CPU)'}",
        f"volume    {m.VOLUME_NAME} mounted at {m.WEIGHTS_DIR} (weights in {m.MODEL_DIR})",
        f"scaling   to zero after {m.SCALEDOWN_WINDOW_S} s idle; request timeout {m.TIMEOUT_S} s, "
        f"startup timeout {m.STARTUP_TIMEOUT_S} s",
    ]


def deploy_modal(
    wait: Annotated[
        bool, typer.Option(help="After deploying, check /health and send a request")
    ] = True,
    timeout: Annotated[
        float, typer.Option(help="Seconds to wait for the first answer")
    ] = STARTUP_WAIT_S,
    dry_run: Annotated[
        bool, typer.Option(help="Print what would be deployed; touch nothing")
    ] = False,
    yes: Annotated[
        bool, typer.Option("--yes", "-y", help="Do not ask before billable actions")
    ] = False,
) -> None:
    """Deploy the Modal app (a new version replaces the running one without downtime)."""
    from ..common import confirm

    try:
        if dry_run:
            typer.echo("Would deploy (dry run, nothing changed):")
            typer.echo("\n".join(f"  {line}" for line in describe()))
            return
        require_token()
        typer.echo("\n".join(describe()))
        confirm("Deploy this Modal app (billed per second while containers run)?", assume_yes=yes)
        import modal

        from . import app as modal_app
        from .check import check_web_endpoint

        with modal.enable_output():
            modal_app.app.deploy(name=modal_app.APP_NAME)
        url = modal_app.Service().web.get_web_url() or ""
        typer.echo(f"deployed: {url}")
        if wait:
            typer.echo(f"test request answered: {check_web_endpoint(url, timeout_s=timeout)}")
    except DeployError as exc:
        raise fail(exc) from None


def destroy_modal(
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask before deleting")] = False,
    delete_volume: Annotated[bool, typer.Option(help="Also delete the weights volume")] = False,
) -> None:
    """Stop the Modal app (idempotent); the weights volume stays unless --delete-volume."""
    import modal
    from modal.exception import NotFoundError

    from ..common import confirm
    from .app import APP_NAME, VOLUME_NAME

    deleted = []
    try:
        require_token()
        confirm(f"Stop Modal app {APP_NAME}?", assume_yes=yes)
        try:
            modal.App.lookup(APP_NAME).stop()
            deleted.append(f"app {APP_NAME}")
        except NotFoundError:
            pass
        if delete_volume:
            try:
                modal.Volume.objects.delete(VOLUME_NAME)
                deleted.append(f"volume {VOLUME_NAME}")
            except NotFoundError:
                pass
    except DeployError as exc:
        raise fail(exc) from None
    typer.echo("\n".join(f"stopped/deleted {item}" for item in deleted) or "nothing to delete")


def register(app: typer.Typer, group: Callable[[str, str], typer.Typer]) -> None:
    group("deploy", "Deploy the service to a target").command("modal")(deploy_modal)
    group("destroy", "Delete what a deploy created").command("modal")(destroy_modal)
