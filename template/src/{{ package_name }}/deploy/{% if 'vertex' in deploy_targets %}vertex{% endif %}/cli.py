"""``deploy vertex`` and ``destroy vertex``."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Annotated

import typer

from ... import __version__
from ...errors import DeployError, fail
from ...project import ENGINE, GCP_PROJECT, GCP_REGION, HARDWARE, PROJECT_SLUG
from ..common import Output, image_digest
from .plan import DEFAULT_POLL_S, DEFAULT_TIMEOUT_S, VertexPlan, predict_url
from .registry import API as REGISTRY_API

#: the one request a waiting deploy sends to prove the endpoint answers
SMOKE_TEXT = "Hello from the deploy check."

Project = Annotated[str, typer.Option(help="GCP project id")]
Region = Annotated[str, typer.Option(help="Vertex AI region")]
ApiEndpoint = Annotated[
    str, typer.Option(help="Vertex AI API endpoint (private endpoint or a local stand-in)")
]
Json = Annotated[bool, typer.Option("--json", help="One JSON object on stdout")]


def deploy_vertex(
    image_uri: Annotated[
        str,
        typer.Option(help="Deploy this image (best by digest) instead of pushing ours"),
    ] = "",
    repository: Annotated[
        str, typer.Option(help="Artifact Registry repository to push to (created if missing)")
    ] = PROJECT_SLUG,
    tag: Annotated[str, typer.Option(help="Tag of the local build to push")] = __version__,
    project: Project = GCP_PROJECT,
    region: Region = GCP_REGION,
    traffic_percent: Annotated[
        int, typer.Option(help="Share of traffic for the new model (below 100: a canary)")
    ] = 100,
    wait: Annotated[bool, typer.Option(help="Wait until deployed, then predict once")] = True,
    timeout: Annotated[float, typer.Option(help="Seconds to wait")] = DEFAULT_TIMEOUT_S,
    poll_interval: Annotated[float, typer.Option(help="Seconds between checks")] = DEFAULT_POLL_S,
    api_endpoint: ApiEndpoint = "",
    registry_api: Annotated[
        str, typer.Option(help="Artifact Registry API (a local stand-in in tests)")
    ] = REGISTRY_API,
    dry_run: Annotated[
        bool, typer.Option(help="Print what would be created; touch nothing")
    ] = False,
    as_json: Json = False,
    yes: Annotated[
        bool, typer.Option("--yes", "-y", help="Do not ask before billable actions")
    ] = False,
) -> None:
    """Deploy to a Vertex AI endpoint (reused if it exists; traffic split on redeploy).

    Without --image-uri the local build (`images build`) is pushed to Artifact Registry
    (REGION-docker.pkg.dev/PROJECT/REPOSITORY/IMAGE) and its digest deployed.
    """
    from ..common import confirm, version_stamp
    from . import apply as vertex
    from . import gcp, registry
    from .plan import build_plan, summary

    out = Output(as_json)
    target = "" if image_uri else registry.image_repository(project, region, repository)
    try:
        plan = build_plan(
            image_uri=image_uri or f"{target}@sha256:<digest of the push>",
            stamp=version_stamp(),
            project=project,
            region=region,
            traffic_percent=traffic_percent,
        )
        steps = summary(plan, registry_repository=target)
        if dry_run:
            out.steps("Would create (dry run, nothing changed):", steps)
            out.done(dry_run=True, **_report(plan))
            return
        credentials = gcp.connect(project, region, api_endpoint=api_endpoint or None)
        out.steps("", steps)
        confirm("Create these billable Vertex AI resources?", assume_yes=yes)
        if target:
            pushed = registry.push(credentials, project, region, repository, tag, api=registry_api)
            plan = dataclasses.replace(plan, image_uri=pushed)
        endpoint, model = vertex.deploy(plan, wait=wait, timeout_s=timeout, poll_s=poll_interval)
        out.line(f"model {model} deployed to endpoint {endpoint}")
        report = {**_report(plan), "endpoint": endpoint, "model": model}
        report["predict_url"] = predict_url(plan, endpoint)
        if wait:
            reply: object = (
                vertex.chat(plan.endpoint_name, credentials, api_endpoint=api_endpoint)
                if ENGINE == "vllm"
                else vertex.predict(plan.endpoint_name, [SMOKE_TEXT])
            )
            out.line(f"test prediction: {reply}")
            report["test_reply"] = reply
        out.done(finished=wait, **report)
    except (DeployError, ValueError) as exc:  # ValueError: invalid settings
        raise fail(exc) from None


def _report(plan: VertexPlan) -> dict[str, object]:
    """The machine-readable facts of a deploy: what it creates, the digest, the machine."""
    return {
        "target": "vertex",
        "project": plan.project,
        "region": plan.region,
        "endpoint_display_name": plan.endpoint_name,
        "model_display_name": plan.model_name,
        "image": plan.image_uri,
        "digest": image_digest(plan.image_uri),
        "machine_type": plan.machine_type,
        "accelerator": HARDWARE.key,
        "accelerator_type": plan.accelerator_type,
        "accelerator_count": plan.accelerator_count if plan.accelerator_type else 0,
        "replicas": [plan.min_replicas, plan.max_replicas],
        "traffic_percent": plan.traffic_percent,
    }


def destroy_vertex(
    project: Project = GCP_PROJECT,
    region: Region = GCP_REGION,
    api_endpoint: ApiEndpoint = "",
    as_json: Json = False,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask before deleting")] = False,
) -> None:
    """Undeploy and delete the Vertex AI endpoint and this project's models (idempotent).

    The Artifact Registry repository and its images stay (delete them with gcloud, see
    docs/vertex.md).
    """
    from ..common import confirm
    from . import apply as vertex
    from . import gcp

    try:
        gcp.connect(project, region, api_endpoint=api_endpoint or None)
        confirm(f"Delete Vertex AI endpoint {PROJECT_SLUG} and its models?", assume_yes=yes)
        deleted = vertex.destroy(PROJECT_SLUG, {"managed-by": PROJECT_SLUG})
    except DeployError as exc:
        raise fail(exc) from None
    out = Output(as_json)
    out.line("\n".join(f"deleted {item}" for item in deleted) or "nothing to delete")
    out.done(target="vertex", endpoint_display_name=PROJECT_SLUG, deleted=deleted)


def register(app: typer.Typer, group: Callable[[str, str], typer.Typer]) -> None:
    group("deploy", "Deploy the service to a target").command("vertex")(deploy_vertex)
    group("destroy", "Delete what a deploy created").command("vertex")(destroy_vertex)
