"""``deploy kubernetes`` and ``destroy kubernetes``: the k8s/ overlays, applied from Python."""

from __future__ import annotations

import enum
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Optional

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
ContextOpt = Annotated[
    Optional[str], typer.Option(help="kubeconfig context (default: the current context)")
]


def _render(k8s_dir: Path, overlay: Overlay, image: str | None) -> list[dict[str, object]]:
    from .manifests import ManifestError, render

    try:
        return render(k8s_dir, overlay.value, image=image)
    except ManifestError as exc:
        raise fail(exc) from None


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
        k8s_dir: K8sDir = Path("k8s"),
        context: ContextOpt = None,
        kubeconfig: KubeconfigOpt = None,
    ) -> None:
        """Server-side apply the overlay, wait for the rollout, roll back if it fails."""
        from .manifests import to_yaml

        objects = _render(k8s_dir, overlay, image)
        if dry_run:
            typer.echo(to_yaml(objects), nl=False)
            return
        from .apply import connect, deploy

        try:
            cluster = connect(context, kubeconfig)
            typer.echo(f"deploying the {overlay.value} overlay to {cluster.host}")
            result = deploy(
                cluster,
                objects,
                wait=wait,
                timeout_s=timeout or _default_timeout(objects),
                say=typer.echo,
            )
        except DeployError as exc:
            raise fail(exc) from None
        if result is not None and not result.ok:
            raise typer.Exit(1)

    @destroy_group.command("kubernetes")
    def destroy_kubernetes(
        overlay: OverlayOpt = Overlay.prod,
        yes: Annotated[
            bool, typer.Option("--yes", "-y", help="Do not ask for confirmation")
        ] = False,
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
            destroy(cluster, objects, say=typer.echo)
        except DeployError as exc:
            raise fail(exc) from None
