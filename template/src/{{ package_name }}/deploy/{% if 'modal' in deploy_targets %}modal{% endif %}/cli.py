"""``deploy modal`` and ``destroy modal``."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from typing import Annotated, Any

import typer

from ...errors import DeployError, fail
from ...project import HARDWARE
from ...settings import ENV_PREFIX

STARTUP_WAIT_S = 1200.0


def require_token() -> None:
    """Fail before anything happens when no Modal token is configured."""
    from modal.config import config

    if not (config.get("token_id") and config.get("token_secret")):
        raise DeployError(
            "No Modal token found: run `modal token new` (or `modal setup`), or set "
            "MODAL_TOKEN_ID and MODAL_TOKEN_SECRET."
        )


def plan() -> dict[str, Any]:
    """What ``deploy modal`` deploys, as data (``--json``, ``--dry-run``)."""
    from ...runtime.workers import gpu_layout
    from . import app as m

    return {
        "target": "modal",
        "app": m.APP_NAME,
        "gpu": m.GPU,
        "gpus": HARDWARE.gpu_count,
        "gpu_layout": gpu_layout(None).as_dict(),
        "containers": {"min": m.MIN_CONTAINERS, "max": m.MAX_CONTAINERS},
        "concurrent_inputs": {"target": m.TARGET_INPUTS, "max": m.MAX_INPUTS},
        "auth": {
            "bearer_token_secret": m.TOKEN_SECRET_NAME if m.AUTH_REQUIRED else None,
            "proxy_auth": m.PROXY_AUTH,
            "public": not (m.AUTH_REQUIRED or m.PROXY_AUTH),
        },
        "weights": {
            "strategy": "bake" if m.BAKED else "volume",
            "model_dir": m.MODEL_DIR,
            "volume": None if m.BAKED else m.VOLUME_NAME,
            "hf_token_secret": m.HF_SECRET_NAME,
        },
        "image": {
            "source": "registry" if m.IMAGE_URI else "built by Modal from pyproject.toml",
            "uri": m.IMAGE_URI,
            "registry_secret": m.REGISTRY_SECRET,
        },
        "scaledown_window_s": m.SCALEDOWN_WINDOW_S,
        "timeout_s": m.TIMEOUT_S,
        "startup_timeout_s": m.STARTUP_TIMEOUT_S,
    }


def describe(facts: dict[str, Any]) -> list[str]:
    from ...runtime.workers import gpu_layout

    auth = facts["auth"]
    weights = facts["weights"]
    guard = "public: anyone with the URL may call it (set REQUIRE_AUTH or MODAL_PROXY_AUTH)"
    if auth["bearer_token_secret"]:
        guard = f"bearer token from Modal Secret {auth['bearer_token_secret']}"
    if auth["proxy_auth"]:
        guard += ", Modal proxy auth (Modal-Key/Modal-Secret headers)"
    store = "baked into the image" if weights["volume"] is None else f"volume {weights['volume']}"
    image = facts["image"]["uri"] or facts["image"]["source"]
    return [
        f"app       {facts['app']} (class Service: method predict, web endpoint web)",
        f"image     {image}",
        f"gpu       {facts['gpu'] or 'none (CPU)'}: {gpu_layout(None).describe()}",
        f"weights   {store}, at {weights['model_dir']}"
        + (
            f" (HF_TOKEN from Modal Secret {weights['hf_token_secret']})"
            if weights["hf_token_secret"]
            else ""
        ),
        f"auth      {guard}",
        f"batching  {facts['concurrent_inputs']['target']} inputs per container "
        f"(at most {facts['concurrent_inputs']['max']})",
        f"scaling   {facts['containers']['min']} to {facts['containers']['max']} containers, "
        f"stopped after {facts['scaledown_window_s']} s idle; request timeout "
        f"{facts['timeout_s']} s, startup timeout {facts['startup_timeout_s']} s",
    ]


JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON object (for machines)")]


def deploy_modal(
    image_uri: Annotated[
        str | None,
        typer.Option(
            help="Run this pushed image (`images push` prints REPOSITORY@sha256:...) "
            "instead of letting Modal build one; sets MODAL_IMAGE"
        ),
    ] = None,
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
    as_json: JsonOpt = False,
) -> None:
    """Deploy the Modal app (a new version replaces the running one without downtime)."""
    from ..common import confirm

    say = _quiet if as_json else typer.echo
    if image_uri:  # app.py reads it when imported, and passes it on to the containers
        os.environ[f"{ENV_PREFIX}MODAL_IMAGE"] = image_uri
    try:
        facts = plan()
        if dry_run:
            if as_json:
                typer.echo(json.dumps({**facts, "dry_run": True}))
                return
            typer.echo("Would deploy (dry run, nothing changed):")
            typer.echo("\n".join(f"  {line}" for line in describe(facts)))
            return
        require_token()
        say("\n".join(describe(facts)))
        confirm("Deploy this Modal app (billed per second while containers run)?", assume_yes=yes)
        import modal

        from . import app as modal_app
        from .check import check_web_endpoint

        if as_json:  # stdout carries only the JSON object
            modal_app.app.deploy(name=modal_app.APP_NAME)
        else:
            with modal.enable_output():
                modal_app.app.deploy(name=modal_app.APP_NAME)
        url = modal_app.Service().web.get_web_url() or ""
        say(f"deployed: {url}")
        answer = None
        if wait:
            answer = check_web_endpoint(url, timeout_s=timeout)
            say(f"test request answered: {answer}")
        if as_json:
            typer.echo(json.dumps({**facts, "url": url, "checked": answer is not None}))
    except DeployError as exc:
        raise fail(exc) from None


def _quiet(_: str) -> None:
    """--json: the one JSON object is the only output on stdout."""


def destroy_modal(
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask before deleting")] = False,
    delete_volume: Annotated[bool, typer.Option(help="Also delete the weights volume")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Stop the Modal app (idempotent); the weights volume stays unless --delete-volume."""
    import modal
    from modal.exception import NotFoundError

    from ..common import confirm
    from .app import APP_NAME, LEASES_NAME, VOLUME_NAME

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
            for kind, name in (("volume", VOLUME_NAME), ("dict", LEASES_NAME)):
                try:
                    store = modal.Volume if kind == "volume" else modal.Dict
                    store.objects.delete(name)
                    deleted.append(f"{kind} {name}")
                except NotFoundError:
                    pass
    except DeployError as exc:
        raise fail(exc) from None
    if as_json:
        typer.echo(json.dumps({"target": "modal", "deleted": deleted}))
        return
    typer.echo("\n".join(f"stopped/deleted {item}" for item in deleted) or "nothing to delete")


def register(app: typer.Typer, group: Callable[[str, str], typer.Typer]) -> None:
    group("deploy", "Deploy the service to a target").command("modal")(deploy_modal)
    group("destroy", "Delete what a deploy created").command("modal")(destroy_modal)
