"""``deploy sagemaker`` and ``destroy sagemaker``."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Optional

import typer

from ... import __version__
from ...errors import DeployError, fail
from ...project import AWS_REGION, PROJECT_SLUG, SAGEMAKER_SERVERLESS, WEIGHTS_STRATEGY
from .plan import (
    DEFAULT_POLL_S,
    DEFAULT_TIMEOUT_S,
    SERVERLESS_MAX_CONCURRENCY,
    SERVERLESS_MEMORY_MB,
    SageMakerPlan,
)

#: the one request a waiting deploy sends to prove the endpoint answers
SMOKE_TEXT = "Hello from the deploy check."


class Container(StrEnum):
    ours = "ours"
    huggingface = "huggingface"


def _plan(
    *,
    container: Container,
    image_uri: str,
    model_data_url: str | None,
    role_arn: str,
    serverless: bool,
    memory_mb: int,
    max_concurrency: int,
    region: str,
) -> SageMakerPlan:
    from ...settings import get_settings
    from . import artifacts
    from .plan import build_plan, server_environment

    settings = get_settings()
    if container is Container.huggingface:
        environment = artifacts.huggingface_environment(
            settings.model_id, settings.model_revision, settings.task
        )
    else:
        environment = server_environment(model_data_url)
    plan = build_plan(
        image_uri=image_uri,
        role_arn=role_arn,
        environment=environment,
        model_data_url=model_data_url,
        serverless=serverless,
        memory_mb=memory_mb,
        max_concurrency=max_concurrency,
    )
    if container is Container.huggingface and not image_uri:
        plan = dataclasses.replace(
            plan, image_uri=artifacts.huggingface_image_uri(region, plan.instance_type)
        )
    return plan


def deploy_sagemaker(
    role_arn: Annotated[str, typer.Option(help="SageMaker execution role ARN (reads S3/ECR)")] = "",
    image_uri: Annotated[
        str, typer.Option(help="Use this image instead of pushing ours to ECR")
    ] = "",
    tag: Annotated[str, typer.Option(help="Image tag to push")] = __version__,
    container: Annotated[
        Container, typer.Option(help="ours, or AWS's Hugging Face inference image")
    ] = Container.ours,
    weights_dir: Annotated[
        Optional[Path], typer.Option(help="Weights to upload to S3 (not baked)")
    ] = None,
    bucket: Annotated[str, typer.Option(help="S3 bucket (default sagemaker-REGION-ACCOUNT)")] = "",
    region: Annotated[str, typer.Option(help="AWS region")] = AWS_REGION,
    serverless: Annotated[
        bool, typer.Option(help="Serverless Inference (CPU only)")
    ] = SAGEMAKER_SERVERLESS,
    memory_mb: Annotated[
        int, typer.Option(help="Serverless memory (1024-6144)")
    ] = SERVERLESS_MEMORY_MB,
    max_concurrency: Annotated[
        int, typer.Option(help="Serverless max concurrency")
    ] = SERVERLESS_MAX_CONCURRENCY,
    wait: Annotated[
        bool, typer.Option(help="Wait until InService, then autoscale and invoke once")
    ] = True,
    timeout: Annotated[float, typer.Option(help="Seconds to wait")] = DEFAULT_TIMEOUT_S,
    poll_interval: Annotated[
        float, typer.Option(help="Seconds between status checks")
    ] = DEFAULT_POLL_S,
    dry_run: Annotated[
        bool, typer.Option(help="Print what would be created; touch nothing")
    ] = False,
    yes: Annotated[
        bool, typer.Option("--yes", "-y", help="Do not ask before billable actions")
    ] = False,
) -> None:
    """Deploy to an AWS SageMaker endpoint (created, or updated in place)."""
    from ...settings import get_settings
    from ..common import confirm, version_stamp
    from . import apply as sagemaker
    from . import artifacts as sagemaker_artifacts
    from . import aws as aws_api
    from .plan import summary

    ours = container is Container.ours
    upload = ours and WEIGHTS_STRATEGY != "bake"
    stamp = version_stamp()
    key = f"{PROJECT_SLUG}/{stamp}/model.tar.gz"
    try:
        if dry_run:
            image = image_uri or (
                f"<account>.dkr.ecr.{region}.amazonaws.com/{PROJECT_SLUG}:{tag}" if ours else ""
            )
            data = f"s3://{bucket or f'sagemaker-{region}-<account>'}/{key}" if upload else None
            plan = _plan(
                container=container,
                image_uri=image,
                model_data_url=data,
                role_arn=role_arn or "arn:<role>",
                serverless=serverless,
                memory_mb=memory_mb,
                max_concurrency=max_concurrency,
                region=region,
            )
            typer.echo("Would create (dry run, nothing changed):")
            for line in summary(plan):
                typer.echo(f"  {line}")
            return
        session = aws_api.session(region)
        account = aws_api.check_access(session)
        data = f"s3://{bucket or f'sagemaker-{region}-{account}'}/{key}" if upload else None
        plan = _plan(
            container=container,
            image_uri=image_uri or ("<pushed after confirmation>" if ours else ""),
            model_data_url=data,
            role_arn=role_arn,
            serverless=serverless,
            memory_mb=memory_mb,
            max_concurrency=max_concurrency,
            region=region,
        )
        typer.echo("\n".join(summary(plan)))
        confirm("Create these billable SageMaker resources?", assume_yes=yes)
        if ours and not image_uri:
            plan = dataclasses.replace(
                plan, image_uri=sagemaker_artifacts.push_to_ecr(session, PROJECT_SLUG, tag)
            )
        if data:
            source = weights_dir or get_settings().model_dir
            if source is None:
                raise DeployError(
                    "weights are not baked into the image: pass --weights-dir to upload them to S3"
                )
            target_bucket, _, target_key = data.removeprefix("s3://").partition("/")
            sagemaker_artifacts.package_weights(session, source, target_bucket, target_key)
        action = sagemaker.deploy(session, plan, wait=wait, timeout_s=timeout, poll_s=poll_interval)
        typer.echo(f"endpoint {plan.endpoint_name} {action}")
        if wait:
            reply = sagemaker.invoke(session, plan.endpoint_name, [SMOKE_TEXT])
            typer.echo(f"test request answered: {reply}")
    except (DeployError, FileNotFoundError, ValueError) as exc:  # ValueError: bad settings
        raise fail(exc) from None


def destroy_sagemaker(
    region: Annotated[str, typer.Option(help="AWS region")] = AWS_REGION,
    bucket: Annotated[
        str, typer.Option(help=f"Also delete s3://BUCKET/{PROJECT_SLUG}/ (uploaded weights)")
    ] = "",
    delete_repository: Annotated[
        bool, typer.Option(help="Also delete the ECR repository and its images")
    ] = False,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask before deleting")] = False,
) -> None:
    """Delete the SageMaker endpoint, its configurations, models and autoscaling (idempotent)."""
    from ..common import confirm
    from . import apply as sagemaker
    from . import artifacts as sagemaker_artifacts
    from . import aws as aws_api

    try:
        session = aws_api.session(region)
        aws_api.check_access(session)
        confirm(f"Delete SageMaker endpoint {PROJECT_SLUG} and everything it uses?", assume_yes=yes)
        deleted = sagemaker.destroy(session, PROJECT_SLUG[:40])
        if bucket:
            count = sagemaker_artifacts.delete_prefix(session, bucket, f"{PROJECT_SLUG}/")
            deleted.append(f"{count} objects under s3://{bucket}/{PROJECT_SLUG}/")
        if delete_repository:
            deleted += sagemaker_artifacts.delete_repository(session, PROJECT_SLUG)
    except DeployError as exc:
        raise fail(exc) from None
    typer.echo("\n".join(f"deleted {item}" for item in deleted) or "nothing to delete")


def register(app: typer.Typer, group: Callable[[str, str], typer.Typer]) -> None:
    group("deploy", "Deploy the service to a target").command("sagemaker")(deploy_sagemaker)
    group("destroy", "Delete what a deploy created").command("sagemaker")(destroy_sagemaker)
