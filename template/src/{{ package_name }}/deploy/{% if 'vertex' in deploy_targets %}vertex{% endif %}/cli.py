"""``deploy vertex`` and ``destroy vertex``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

import typer

from ... import __version__
from ...errors import DeployError, fail
from ...project import GCP_PROJECT, GCP_REGION, IMAGE_NAME, PROJECT_SLUG
from .plan import DEFAULT_POLL_S, DEFAULT_TIMEOUT_S

#: the one request a waiting deploy sends to prove the endpoint answers
SMOKE_TEXT = "Hello from the deploy check."

Project = Annotated[str, typer.Option(help="GCP project id")]
Region = Annotated[str, typer.Option(help="Vertex AI region")]
ApiEndpoint = Annotated[
    str, typer.Option(help="Vertex AI API endpoint (private endpoint or a local stand-in)")
]


def deploy_vertex(
    image_uri: Annotated[
        str, typer.Option(help="Image in Artifact Registry (default: the answered registry)")
    ] = (f"{IMAGE_NAME}:{__version__}" if "/" in IMAGE_NAME else ""),
    project: Project = GCP_PROJECT,
    region: Region = GCP_REGION,
    traffic_percent: Annotated[
        int, typer.Option(help="Share of traffic for the new model (below 100: a canary)")
    ] = 100,
    wait: Annotated[bool, typer.Option(help="Wait until deployed, then predict once")] = True,
    timeout: Annotated[float, typer.Option(help="Seconds to wait")] = DEFAULT_TIMEOUT_S,
    poll_interval: Annotated[float, typer.Option(help="Seconds between checks")] = DEFAULT_POLL_S,
    api_endpoint: ApiEndpoint = "",
    dry_run: Annotated[
        bool, typer.Option(help="Print what would be created; touch nothing")
    ] = False,
    yes: Annotated[
        bool, typer.Option("--yes", "-y", help="Do not ask before billable actions")
    ] = False,
) -> None:
    """Deploy to a Vertex AI endpoint (reused if it exists; traffic split on redeploy)."""
    from ..common import confirm, version_stamp
    from . import apply as vertex
    from . import gcp
    from .plan import build_plan, summary

    try:
        plan = build_plan(
            image_uri=image_uri,
            stamp=version_stamp(),
            project=project,
            region=region,
            traffic_percent=traffic_percent,
        )
        if dry_run:
            typer.echo("Would create (dry run, nothing changed):")
            typer.echo("\n".join(f"  {line}" for line in summary(plan)))
            return
        gcp.connect(project, region, api_endpoint=api_endpoint or None)
        typer.echo("\n".join(summary(plan)))
        confirm("Create these billable Vertex AI resources?", assume_yes=yes)
        endpoint, model = vertex.deploy(plan, wait=wait, timeout_s=timeout, poll_s=poll_interval)
        typer.echo(f"model {model} deployed to endpoint {endpoint}")
        if wait:
            typer.echo(f"test prediction: {vertex.predict(plan.endpoint_name, [SMOKE_TEXT])}")
    except (DeployError, ValueError) as exc:  # ValueError: invalid settings
        raise fail(exc) from None


def destroy_vertex(
    project: Project = GCP_PROJECT,
    region: Region = GCP_REGION,
    api_endpoint: ApiEndpoint = "",
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask before deleting")] = False,
) -> None:
    """Undeploy and delete the Vertex AI endpoint and this project's models (idempotent)."""
    from ..common import confirm
    from . import apply as vertex
    from . import gcp

    try:
        gcp.connect(project, region, api_endpoint=api_endpoint or None)
        confirm(f"Delete Vertex AI endpoint {PROJECT_SLUG} and its models?", assume_yes=yes)
        deleted = vertex.destroy(PROJECT_SLUG, {"managed-by": PROJECT_SLUG})
    except DeployError as exc:
        raise fail(exc) from None
    typer.echo("\n".join(f"deleted {item}" for item in deleted) or "nothing to delete")


def register(app: typer.Typer, group: Callable[[str, str], typer.Typer]) -> None:
    group("deploy", "Deploy the service to a target").command("vertex")(deploy_vertex)
    group("destroy", "Delete what a deploy created").command("vertex")(destroy_vertex)
