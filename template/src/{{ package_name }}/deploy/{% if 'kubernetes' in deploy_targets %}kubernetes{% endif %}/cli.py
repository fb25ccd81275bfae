"""``deploy kubernetes`` and ``destroy kubernetes``: the k8s/ overlays, applied from Python."""

from __future__ import annotations

import enum
import json
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from ...errors import DeployError, fail


class Overlay(enum.StrEnum):
    dev = "dev"
    prod = "prod"


K8sDir = Annotated[
    Path, typer.Option("--k8s-dir", help="The kustomize directory (base + overlays)")
]
OverlayOpt = Annotated[Overlay, typer.Option(help="Which overlay of k8s/overlays to apply")]
KubeconfigOpt = Annotated[
    Optional[str], typer.Option(help="kubeconfig file (default: $KUBECONFIG, ~/.kube/config)")
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON object (for machines)")]
ContextOpt = Annotated[
    Optional[str], typer.Option(help="kubeconfig context (default: the current context)")
]


def _render(k8s_dir: Path, overlay: Overlay, image: str | None) -> list[dict[str, object]]:
    from .manifests import ManifestError, render

    try:
        return render(k8s_dir, overlay.value, image=image)
    except ManifestError as exc:
        raise fail(exc) from None


def _render_batch(k8s_dir: Path, image: str | None) -> list[dict[str, Any]]:
    from .batch import render_batch
    from .manifests import ManifestError

    try:
        return render_batch(k8s_dir, image)
    except ManifestError as exc:
        raise fail(exc) from None


def _quiet(_: str) -> None:
    """--json: the one JSON object is the only output on stdout."""


def plan(objects: list[dict[str, Any]], *, dry_run: bool = False) -> dict[str, Any]:
    """What a deploy applies, as data: objects, images, GPUs and how the server uses them."""
    from ...runtime.workers import gpu_layout
    from .manifests import ManifestError, key, require_registry, workload_images

    gpus = 0
    for obj in objects:
        if obj.get("kind") in ("Deployment", "Job"):
            for container in obj["spec"]["template"]["spec"]["containers"]:
                limits = container.get("resources", {}).get("limits", {})
                gpus = max(gpus, int(limits.get("nvidia.com/gpu", 0)))
    try:
        require_registry(objects)
        problems = []
    except ManifestError as exc:
        problems = [str(exc)]
    return {
        "target": "kubernetes",
        "dry_run": dry_run,
        "problems": problems,
        "objects": [key(obj) for obj in objects],
        "images": workload_images(objects),
        "gpus": gpus,
        "gpu_layout": gpu_layout(None).as_dict(),
    }


def _submit(
    cluster: Any, objects: list[dict[str, Any]], *, wait: bool, timeout: float | None, as_json: bool
) -> None:
    from .batch import batch_logs_hint, submit_batch

    say = _quiet if as_json else typer.echo
    job = next(obj for obj in objects if obj["kind"] == "Job")
    result = submit_batch(
        cluster, objects, wait=wait, timeout_s=timeout or 600.0, say=say, show_progress=not as_json
    )
    if as_json:
        typer.echo(
            json.dumps(
                {
                    **plan(objects),
                    "cluster": cluster.host,
                    "job": result.job,
                    "admitted": result.admitted,
                    "message": result.message,
                }
            )
        )
        return
    typer.echo(f"{result.job}: {result.message}")
    if result.admitted:
        typer.echo(f"results: {batch_logs_hint(job)}")


def _default_timeout(objects: list[dict[str, object]]) -> float:
    """The Deployment's progress deadline plus a minute: the rollout fails before we give up."""
    for obj in objects:
        if obj.get("kind") == "Deployment":
            spec = obj.get("spec")
            if isinstance(spec, dict):
                return float(spec.get("progressDeadlineSeconds", 600)) + 60.0
    return 660.0


def register(app: typer.Typer, group: Callable[[str, str], typer.Typer]) -> None:
    deploy_group = group("deploy", "Deploy the service to a target platform")
    destroy_group = group("destroy", "Remove a deployment from a target platform")

    @deploy_group.command("kubernetes")
    def deploy_kubernetes(
        overlay: OverlayOpt = Overlay.prod,
        dry_run: Annotated[
            bool, typer.Option("--dry-run", help="Print the manifests; touch no cluster")
        ] = False,
        wait: Annotated[bool, typer.Option(help="Wait for the rollout (and roll back)")] = True,
        timeout: Annotated[
            Optional[float],
            typer.Option(min=1, help="Seconds to wait (default: progress deadline + 60)"),
        ] = None,
        image: Annotated[
            Optional[str],
            typer.Option(help="Image to run instead of the manifest's (REPO@sha256:...)"),
        ] = None,
        batch: Annotated[
            bool,
            typer.Option(
                "--batch", help="Submit k8s/batch's Job to Kueue and wait for its admission"
            ),
        ] = False,
        as_json: JsonOpt = False,
        k8s_dir: K8sDir = Path("k8s"),
        context: ContextOpt = None,
        kubeconfig: KubeconfigOpt = None,
    ) -> None:
        """Server-side apply the overlay, wait for the rollout, roll back if it fails."""
        from .manifests import ManifestError, require_registry, to_yaml

        say = _quiet if as_json else typer.echo
        objects = _render_batch(k8s_dir, image) if batch else _render(k8s_dir, overlay, image)
        if dry_run:
            if as_json:
                typer.echo(json.dumps(plan(objects, dry_run=True)))
            else:
                typer.echo(to_yaml(objects), nl=False)
            return
        try:
            require_registry(objects)
        except ManifestError as exc:
            raise fail(exc) from None
        from .apply import connect, deploy

        try:
            cluster = connect(context, kubeconfig)
            if batch:
                _submit(cluster, objects, wait=wait, timeout=timeout, as_json=as_json)
                return
            say(f"deploying the {overlay.value} overlay to {cluster.host}")
            result = deploy(
                cluster,
                objects,
                wait=wait,
                timeout_s=timeout or _default_timeout(objects),
                say=say,
            )
        except DeployError as exc:
            raise fail(exc) from None
        if as_json:
            outcome = {"ok": result.ok, "message": result.message} if result else None
            typer.echo(json.dumps({**plan(objects), "cluster": cluster.host, "rollout": outcome}))
        if result is not None and not result.ok:
            raise typer.Exit(1)

    @destroy_group.command("kubernetes")
    def destroy_kubernetes(
        overlay: OverlayOpt = Overlay.prod,
        yes: Annotated[
            bool, typer.Option("--yes", "-y", help="Do not ask for confirmation")
        ] = False,
        as_json: JsonOpt = False,
        k8s_dir: K8sDir = Path("k8s"),
        context: ContextOpt = None,
        kubeconfig: KubeconfigOpt = None,
    ) -> None:
        """Delete the objects `deploy kubernetes` applied (the namespace and flavor stay)."""
        from ..common import confirm
        from .manifests import key

        objects = _render(k8s_dir, overlay, None)
        from .apply import connect, destroy

        try:
            cluster = connect(context, kubeconfig)
            names = ", ".join(key(obj) for obj in objects)
            confirm(f"Delete from {cluster.host}: {names}?", assume_yes=yes)
            deleted = destroy(cluster, objects, say=_quiet if as_json else typer.echo)
        except DeployError as exc:
            raise fail(exc) from None
        if as_json:
            typer.echo(
                json.dumps({"target": "kubernetes", "cluster": cluster.host, "deleted": deleted})
            )
