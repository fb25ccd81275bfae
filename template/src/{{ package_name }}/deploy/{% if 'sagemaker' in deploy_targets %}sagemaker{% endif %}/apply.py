"""Deploy to AWS SageMaker with boto3: create or update in place, wait, autoscale, invoke,
destroy.

The plan (names, sizes, request bodies) is built by ``plan``; this module only
applies it. Nothing billable exists until ``CreateEndpoint``/``UpdateEndpoint``: if an
earlier step fails, the model and configuration it made are removed again.
"""

from __future__ import annotations

import json
import logging
from typing import TYPE_CHECKING, Any

from ...errors import DeployError
from ..common import Status, wait_for
from .aws import explain, is_not_found
from .plan import (
    DEFAULT_POLL_S,
    DEFAULT_TIMEOUT_S,
    SCALABLE_DIMENSION,
    SageMakerPlan,
    endpoint_config_request,
    model_request,
    scaling_policy_request,
    scaling_resource_id,
    scaling_target_request,
)

if TYPE_CHECKING:
    import boto3

log = logging.getLogger(__name__)

#: endpoint states in which UpdateEndpoint is accepted
UPDATABLE = {"InService"}


def endpoint_status(aws: boto3.Session, name: str) -> dict[str, Any] | None:
    """DescribeEndpoint, or None when there is no such endpoint."""
    try:
        return dict(aws.client("sagemaker").describe_endpoint(EndpointName=name))
    except Exception as exc:
        if is_not_found(exc):
            return None
        raise explain(exc, f"describing endpoint {name}") from exc


def wait_in_service(
    aws: boto3.Session, name: str, *, timeout_s: float, poll_s: float, show_progress: bool = True
) -> None:
    def describe() -> Status:
        found = endpoint_status(aws, name)
        if found is None:
            return Status("Missing", failed=True, reason="the endpoint disappeared")
        state = str(found["EndpointStatus"])
        return Status(
            state,
            done=state == "InService",
            failed=state in {"Failed", "OutOfService", "RollingBack"},
            reason=str(found.get("FailureReason", "")),
        )

    wait_for(
        describe,
        what=f"endpoint {name}",
        timeout_s=timeout_s,
        poll_s=poll_s,
        show_progress=show_progress,
    )


def deploy(
    aws: boto3.Session,
    plan: SageMakerPlan,
    *,
    wait: bool = True,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    poll_s: float = DEFAULT_POLL_S,
    show_progress: bool = True,
) -> str:
    """Create the endpoint, or update it in place; returns ``"created"`` or ``"updated"``."""
    sm = aws.client("sagemaker")
    existing = endpoint_status(aws, plan.endpoint_name)
    if existing is not None and existing["EndpointStatus"] not in UPDATABLE:
        raise DeployError(
            f"endpoint {plan.endpoint_name} is {existing['EndpointStatus']}: wait until it is "
            "InService, or remove it with `destroy sagemaker` if it Failed."
        )
    made: list[tuple[str, str]] = []
    try:
        sm.create_model(**model_request(plan))
        made.append(("model", plan.model_name))
        sm.create_endpoint_config(**endpoint_config_request(plan))
        made.append(("config", plan.config_name))
        if existing is None:
            sm.create_endpoint(EndpointName=plan.endpoint_name, EndpointConfigName=plan.config_name)
        else:
            deregister_autoscaling(aws, plan.endpoint_name)
            sm.update_endpoint(EndpointName=plan.endpoint_name, EndpointConfigName=plan.config_name)
    except Exception as exc:
        _remove(aws, made)
        raise explain(exc, f"deploying endpoint {plan.endpoint_name}") from exc
    action = "created" if existing is None else "updated"
    if not wait:
        log.info(
            "endpoint %s %s; not waiting (autoscaling is registered by a waiting deploy)",
            plan.endpoint_name,
            action,
        )
        return action
    wait_in_service(
        aws, plan.endpoint_name, timeout_s=timeout_s, poll_s=poll_s, show_progress=show_progress
    )
    if existing is not None:
        _remove(aws, _previous_version(aws, str(existing["EndpointConfigName"]), keep=plan))
    if not plan.serverless:
        register_autoscaling(aws, plan)
    return action


def _previous_version(
    aws: boto3.Session, config_name: str, keep: SageMakerPlan
) -> list[tuple[str, str]]:
    """The configuration the endpoint ran before the update, and its models."""
    if config_name == keep.config_name:
        return []
    try:
        config = aws.client("sagemaker").describe_endpoint_config(EndpointConfigName=config_name)
    except Exception as exc:
        if is_not_found(exc):
            return []
        raise explain(exc, f"describing endpoint config {config_name}") from exc
    models = {v["ModelName"] for v in config["ProductionVariants"]} - {keep.model_name}
    return [("config", config_name), *(("model", name) for name in sorted(models))]


def _remove(aws: boto3.Session, resources: list[tuple[str, str]]) -> None:
    sm = aws.client("sagemaker")
    for kind, name in reversed(resources):
        try:
            if kind == "config":
                sm.delete_endpoint_config(EndpointConfigName=name)
            else:
                sm.delete_model(ModelName=name)
        except Exception as exc:
            if not is_not_found(exc):
                raise explain(exc, f"deleting {kind} {name}") from exc


def register_autoscaling(aws: boto3.Session, plan: SageMakerPlan) -> None:
    """Target tracking on invocations per instance, between the answered replica bounds."""
    scaling = aws.client("application-autoscaling")
    try:
        scaling.register_scalable_target(**scaling_target_request(plan))
        scaling.put_scaling_policy(**scaling_policy_request(plan))
    except Exception as exc:
        raise explain(exc, f"registering autoscaling for {plan.endpoint_name}") from exc


def deregister_autoscaling(aws: boto3.Session, endpoint_name: str) -> bool:
    """Remove the scalable target (and with it its policies); False if there was none."""
    try:
        aws.client("application-autoscaling").deregister_scalable_target(
            ServiceNamespace="sagemaker",
            ResourceId=scaling_resource_id(endpoint_name),
            ScalableDimension=SCALABLE_DIMENSION,
        )
    except Exception as exc:
        if is_not_found(exc):
            return False
        raise explain(exc, f"removing autoscaling from {endpoint_name}") from exc
    return True


def invoke(aws: boto3.Session, endpoint_name: str, texts: list[str]) -> Any:
    """One request through SageMaker's runtime API to the container's ``/invocations``."""
    try:
        reply = aws.client("sagemaker-runtime").invoke_endpoint(
            EndpointName=endpoint_name,
            ContentType="application/json",
            Accept="application/json",
            Body=json.dumps({"inputs": texts}).encode(),
        )
    except Exception as exc:
        raise explain(exc, f"invoking endpoint {endpoint_name}") from exc
    return json.loads(reply["Body"].read())


def destroy(aws: boto3.Session, endpoint_name: str) -> list[str]:
    """Delete the endpoint, every configuration and model of this project, and autoscaling.

    Idempotent: what is already gone is skipped. Returns what was deleted.
    """
    sm = aws.client("sagemaker")
    deleted = []
    if deregister_autoscaling(aws, endpoint_name):
        deleted.append(f"autoscaling {scaling_resource_id(endpoint_name)}")
    try:
        sm.delete_endpoint(EndpointName=endpoint_name)
        deleted.append(f"endpoint {endpoint_name}")
    except Exception as exc:
        if not is_not_found(exc):
            raise explain(exc, f"deleting endpoint {endpoint_name}") from exc
    prefix = f"{endpoint_name}-"
    try:
        configs = sm.list_endpoint_configs(NameContains=prefix, MaxResults=100)["EndpointConfigs"]
        models = sm.list_models(NameContains=prefix, MaxResults=100)["Models"]
    except Exception as exc:
        raise explain(exc, f"listing the resources of {endpoint_name}") from exc
    versions = [("config", c["EndpointConfigName"]) for c in configs] + [
        ("model", m["ModelName"]) for m in models
    ]
    versions = [(kind, name) for kind, name in versions if name.startswith(prefix)]
    _remove(aws, versions)
    deleted += [f"{kind} {name}" for kind, name in versions]
    return deleted
