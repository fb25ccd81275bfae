"""``deploy modal`` and ``destroy modal``."""

from __future__ import annotations

import importlib
import json
import os
from collections.abc import Callable
from typing import Annotated, Any

import typer

from ...errors import DeployError, fail
from ...project import ENGINE, HARDWARE
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


def app_module() -> Any:
    """The Modal app ``deploy modal`` deploys: vllm_app (vLLM's server) with engine=vllm."""
    return importlib.import_module(".vllm_app" if ENGINE == "vllm" else ".app", __package__)


def plan() -> dict[str, Any]:
    """What ``deploy modal`` deploys, as data (``--json``, ``--dry-run``)."""
    if ENGINE == "vllm":
        return vllm_plan()
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


def vllm_plan() -> dict[str, Any]:
    """engine=vllm: vLLM's OpenAI server as a Modal web server, tensor parallel on the GPUs."""
    m = app_module()
    return {
        "target": "modal",
        "engine": "vllm",
        "app": m.APP_NAME,
        "module": m.__name__,
        "gpu": m.GPU,
        "gpus": HARDWARE.gpu_count,
        "command": m.serve_command(),
        "containers": {"min": m.MIN_CONTAINERS, "max": m.MAX_CONTAINERS},
        "concurrent_inputs": {"max": m.MAX_INPUTS},
        "auth": {
            "api_key_secret": m.TOKEN_SECRET_NAME if m.AUTH_REQUIRED else None,
            "public": not m.AUTH_REQUIRED,
        },
        "weights": {"volume": m.VOLUME_NAME, "model_dir": m.MODEL_DIR},
        "image": {"source": "registry", "uri": m.VLLM_IMAGE},
        "scaledown_window_s": m.SCALEDOWN_WINDOW_S,
        "startup_timeout_s": m.STARTUP_TIMEOUT_S,
    }


def describe_vllm(facts: dict[str, Any]) -> list[str]:
    key = facts["auth"]["api_key_secret"]
    return [
        f"app       {facts['app']} (vLLM's OpenAI server, web server function serve)",
        f"image     {facts['image']['uri']}",
        f"gpu       {facts['gpu']}: tensor parallel across {facts['gpus']} GPU(s)",
        f"command   {' '.join(facts['command'])}",
        f"weights   volume {facts['weights']['volume']}, at {facts['weights']['model_dir']} "
        f"(fill it once: `modal run -m {facts['module']}::download`)",
        f"auth      {f'VLLM_API_KEY from Modal Secret {key}' if key else 'public'}",
        f"batching  continuous (vLLM), at most {facts['concurrent_inputs']['max']} requests "
        "per container",
        f"scaling   {facts['containers']['min']} to {facts['containers']['max']} containers, "
        f"stopped after {facts['scaledown_window_s']} s idle; startup timeout "
        f"{facts['startup_timeout_s']} s",
    ]


def describe(facts: dict[str, Any]) -> list[str]:
    if facts.get("engine") == "vllm":
        return describe_vllm(facts)
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
    if image_uri and ENGINE == "vllm":
        raise fail(
            DeployError(
                "--image-uri runs this project's own image; with engine=vllm Modal runs vLLM's "
                "official image (VLLM_IMAGE in project.py): deploy without --image-uri."
            )
        )
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

        from .check import check_web_endpoint

        modal_app = app_module()

        if as_json:  # stdout carries only the JSON object
            modal_app.app.deploy(name=modal_app.APP_NAME)
        else:
            with modal.enable_output():
                modal_app.app.deploy(name=modal_app.APP_NAME)
        web = modal_app.serve if ENGINE == "vllm" else modal_app.Service().web
        url = web.get_web_url() or ""
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

    names = app_module()
    app_name = names.APP_NAME
    stores = [("volume", names.VOLUME_NAME)]
    if ENGINE != "vllm":  # the built-in app's weights lease
        stores.append(("dict", names.LEASES_NAME))
    deleted = []
    try:
        require_token()
        confirm(f"Stop Modal app {app_name}?", assume_yes=yes)
        try:
            modal.App.lookup(app_name).stop()
            deleted.append(f"app {app_name}")
        except NotFoundError:
            pass
        if delete_volume:
            for kind, name in stores:
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
