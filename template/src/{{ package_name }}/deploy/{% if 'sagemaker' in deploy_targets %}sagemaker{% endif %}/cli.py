"""``deploy sagemaker`` and ``destroy sagemaker``."""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer

from ... import __version__
from ...errors import DeployError, fail
from ...project import AWS_REGION, HARDWARE, PROJECT_SLUG, SAGEMAKER_SERVERLESS, WEIGHTS_STRATEGY
from ..common import Output, image_digest
from .plan import (
    DEFAULT_POLL_S,
    DEFAULT_TIMEOUT_S,
    SERVERLESS_MAX_CONCURRENCY,
    SERVERLESS_MEMORY_MB,
    SageMakerPlan,
    endpoint_url,
)

if TYPE_CHECKING:
    import boto3

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
        str, typer.Option(help="Use this image (best by digest) instead of pushing ours to ECR")
    ] = "",
    tag: Annotated[str, typer.Option(help="Tag of the local build to push")] = __version__,
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
        bool,
        typer.Option(help="Wait until InService, then autoscale, clean up and invoke once"),
    ] = True,
    finish: Annotated[
        bool,
        typer.Option(help="Finish a --no-wait deploy: wait, clean up, autoscale, invoke once"),
    ] = False,
    timeout: Annotated[float, typer.Option(help="Seconds to wait")] = DEFAULT_TIMEOUT_S,
    poll_interval: Annotated[
        float, typer.Option(help="Seconds between status checks")
    ] = DEFAULT_POLL_S,
    dry_run: Annotated[
        bool, typer.Option(help="Print what would be created; touch nothing")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object on stdout")] = False,
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

    out = Output(as_json)
    ours = container is Container.ours
    upload = ours and WEIGHTS_STRATEGY != "bake"
    push = ours and not image_uri
    key = f"{PROJECT_SLUG}/{version_stamp()}/model.tar.gz"
    ecr = f"<account>.dkr.ecr.{region}.amazonaws.com/{PROJECT_SLUG}" if push else ""
    make_plan = functools.partial(
        _plan,
        container=container,
        region=region,
        serverless=serverless,
        memory_mb=memory_mb,
        max_concurrency=max_concurrency,
    )
    try:
        if dry_run:
            data = f"s3://{bucket or f'sagemaker-{region}-<account>'}/{key}" if upload else None
            image = image_uri or (f"{ecr}@sha256:<digest of the push>" if push else "")
            plan = make_plan(
                image_uri=image, model_data_url=data, role_arn=role_arn or "arn:<role>"
            )
            steps = summary(plan, ecr_repository=ecr, weights_dir=str(weights_dir or ""))
            out.steps("Would create (dry run, nothing changed):", steps)
            out.done(dry_run=True, **_report(plan, region))
            return
        session = aws_api.session(region)
        account = aws_api.check_access(session)
        if finish:
            _finish(session, out, region, timeout=timeout, poll_interval=poll_interval)
            return
        data = f"s3://{bucket or f'sagemaker-{region}-{account}'}/{key}" if upload else None
        plan = make_plan(
            image_uri=image_uri or ("<pushed after confirmation>" if push else ""),
            model_data_url=data,
            role_arn=role_arn,
        )
        ecr = ecr.replace("<account>", account)
        out.steps("", summary(plan, ecr_repository=ecr, weights_dir=str(weights_dir or "")))
        confirm("Create these billable SageMaker resources?", assume_yes=yes)
        if push:
            pushed = sagemaker_artifacts.push_to_ecr(session, PROJECT_SLUG, tag)
            plan = dataclasses.replace(plan, image_uri=pushed)
        if data:
            source = weights_dir or get_settings().model_dir
            if source is None:
                raise DeployError(
                    "weights are not baked into the image: pass --weights-dir to upload them to S3"
                )
            target_bucket, _, target_key = data.removeprefix("s3://").partition("/")
            sagemaker_artifacts.package_weights(session, source, target_bucket, target_key)
        action = sagemaker.deploy(session, plan, wait=wait, timeout_s=timeout, poll_s=poll_interval)
        out.line(f"endpoint {plan.endpoint_name} {action}")
        report = _report(plan, region)
        if wait:
            vllm = "VLLM_ARGS" in plan.environment  # not AWS's Hugging Face container
            reply = sagemaker.invoke(session, plan.endpoint_name, [SMOKE_TEXT], chat=vllm)
            out.line(f"test request answered: {reply}")
            report["test_reply"] = reply
        else:
            out.line(NOT_FINISHED)
        out.done(action=action, finished=wait, autoscaling=wait and not plan.serverless, **report)
    except (DeployError, FileNotFoundError, ValueError) as exc:  # ValueError: bad settings
        raise fail(exc) from None


#: what --no-wait leaves undone, said plainly
NOT_FINISHED = (
    "not waited for: autoscaling is NOT registered and the previous version is NOT removed "
    "yet; once the endpoint is InService, run `deploy sagemaker --finish`"
)


def _finish(
    session: boto3.Session, out: Output, region: str, *, timeout: float, poll_interval: float
) -> None:
    from . import apply as sagemaker

    endpoint = PROJECT_SLUG[:40]
    found = sagemaker.wait_in_service(
        session, endpoint, timeout_s=timeout, poll_s=poll_interval, show_progress=not out.json
    )
    removed, autoscaled = sagemaker.finish(session, endpoint)
    out.line("\n".join(f"removed {item}" for item in removed) or "no previous version to remove")
    out.line("autoscaling registered" if autoscaled else "serverless: no autoscaling to register")
    reply = sagemaker.invoke(session, endpoint, [SMOKE_TEXT])
    out.line(f"test request answered: {reply}")
    out.done(
        action="finished",
        endpoint=endpoint,
        endpoint_config=found["EndpointConfigName"],
        endpoint_url=endpoint_url(region, endpoint),
        removed=removed,
        autoscaling=autoscaled,
        test_reply=reply,
    )


def _report(plan: SageMakerPlan, region: str) -> dict[str, object]:
    """The machine-readable facts of a deploy: what it creates, the digest, the endpoint."""
    return {
        "target": "sagemaker",
        "region": region,
        "endpoint": plan.endpoint_name,
        "endpoint_url": endpoint_url(region, plan.endpoint_name),
        "endpoint_config": plan.config_name,
        "model": plan.model_name,
        "image": plan.image_uri,
        "digest": image_digest(plan.image_uri),
        "model_data_url": plan.model_data_url,
        "instance_type": plan.instance_type or None,
        "instance_count": plan.instance_count,
        "serverless": plan.serverless,
        "accelerator": HARDWARE.key,
        "accelerator_count": HARDWARE.gpu_count,
    }


def destroy_sagemaker(
    region: Annotated[str, typer.Option(help="AWS region")] = AWS_REGION,
    bucket: Annotated[
        str, typer.Option(help=f"Also delete s3://BUCKET/{PROJECT_SLUG}/ (uploaded weights)")
    ] = "",
    delete_repository: Annotated[
        bool, typer.Option(help="Also delete the ECR repository and its images")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object on stdout")] = False,
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
    out = Output(as_json)
    out.line("\n".join(f"deleted {item}" for item in deleted) or "nothing to delete")
    out.done(target="sagemaker", endpoint=PROJECT_SLUG[:40], deleted=deleted)


def register(app: typer.Typer, group: Callable[[str, str], typer.Typer]) -> None:
    group("deploy", "Deploy the service to a target").command("sagemaker")(deploy_sagemaker)
    group("destroy", "Delete what a deploy created").command("sagemaker")(destroy_sagemaker)
