"""Deploy to AWS SageMaker with boto3: create or update in place, wait, verify, autoscale,
invoke, destroy.

The plan (names, sizes, request bodies) is built by ``plan``; this module only applies it.
Nothing billable exists until ``CreateEndpoint``/``UpdateEndpoint``: if an earlier step
fails, the model and configuration it made are removed again. An update counts only when the
endpoint is InService *on the new configuration* (SageMaker rolls a failed update back
asynchronously to the old one); only then is the previous version deleted.
"""

from __future__ import annotations

import json
import logging
from typing import TYPE_CHECKING, Any

from ...errors import DeployError
from ...project import ENGINE, MAX_REPLICAS, MIN_REPLICAS
from ..common import Status, wait_for
from ..openai_client import chat_request, read_chat_reply
from . import autoscaling
from .aws import explain, is_not_found
from .plan import (
    DEFAULT_POLL_S,
    DEFAULT_TIMEOUT_S,
    SageMakerPlan,
    endpoint_config_request,
    model_request,
    scaling_resource_id,
)

if TYPE_CHECKING:
    import boto3

log = logging.getLogger(__name__)

#: endpoint states in which UpdateEndpoint is accepted
UPDATABLE = {"InService"}
#: states after which waiting cannot end well (RollingBack can: it ends InService on the old
#: configuration, which the configuration check then reports)
FAILED = {"Failed", "OutOfService", "UpdateRollbackFailed", "Deleting"}


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
) -> dict[str, Any]:
    """Poll until InService; fail at once on a state it cannot come back from."""
    found: dict[str, Any] = {}

    def describe() -> Status:
        nonlocal found
        found = endpoint_status(aws, name) or {}
        if not found:
            return Status("Missing", failed=True, reason="the endpoint disappeared")
        state = str(found["EndpointStatus"])
        reason = str(found.get("FailureReason", ""))
        if state == "UpdateRollbackFailed":
            reason = (
                f"{reason or 'the update failed and so did its rollback'}; the endpoint cannot "
                "be updated again: remove it with `destroy sagemaker` and deploy anew"
            )
        return Status(state, done=state == "InService", failed=state in FAILED, reason=reason)

    wait_for(
        describe,
        what=f"endpoint {name}",
        timeout_s=timeout_s,
        poll_s=poll_s,
        show_progress=show_progress,
    )
    return found


def deploy(
    aws: boto3.Session,
    plan: SageMakerPlan,
    *,
    wait: bool = True,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    poll_s: float = DEFAULT_POLL_S,
    show_progress: bool = True,
) -> str:
    """Create the endpoint, or update it in place; returns ``"created"`` or ``"updated"``.

    With ``wait=False`` it returns once SageMaker accepted the request: autoscaling and the
    removal of the previous version are left to :func:`finish` (``deploy sagemaker --finish``).
    """
    sm = aws.client("sagemaker")
    existing = endpoint_status(aws, plan.endpoint_name)
    if existing is not None and existing["EndpointStatus"] not in UPDATABLE:
        raise DeployError(
            f"endpoint {plan.endpoint_name} is {existing['EndpointStatus']}: wait until it is "
            "InService, or remove it with `destroy sagemaker` if it Failed."
        )
    made: list[tuple[str, str]] = []
    saved: autoscaling.Snapshot | None = None
    try:
        sm.create_model(**model_request(plan))
        made.append(("model", plan.model_name))
        sm.create_endpoint_config(**endpoint_config_request(plan))
        made.append(("config", plan.config_name))
        if existing is None:
            sm.create_endpoint(EndpointName=plan.endpoint_name, EndpointConfigName=plan.config_name)
        else:
            if _instance_type_changes(aws, str(existing["EndpointConfigName"]), plan):
                saved = autoscaling.snapshot(aws, plan.endpoint_name)
                autoscaling.deregister(aws, plan.endpoint_name)
            sm.update_endpoint(EndpointName=plan.endpoint_name, EndpointConfigName=plan.config_name)
    except Exception as exc:
        _remove(aws, made)
        if saved is not None:
            autoscaling.restore(aws, saved)
        raise explain(exc, f"deploying endpoint {plan.endpoint_name}") from exc
    action = "created" if existing is None else "updated"
    if not wait:
        return action
    try:
        found = wait_in_service(
            aws, plan.endpoint_name, timeout_s=timeout_s, poll_s=poll_s, show_progress=show_progress
        )
        _check_running(found, plan)
    except DeployError:
        if existing is not None:
            _after_failed_update(aws, plan, made, saved)
        raise
    finish(aws, plan.endpoint_name, plan.min_replicas, plan.max_replicas)
    return action


def _check_running(found: dict[str, Any], plan: SageMakerPlan) -> None:
    running = str(found.get("EndpointConfigName", ""))
    if running != plan.config_name:
        raise DeployError(
            f"the update of {plan.endpoint_name} did not take effect: SageMaker rolled it back "
            f"and the endpoint still runs {running}"
            + (f" ({found['FailureReason']})" if found.get("FailureReason") else "")
            + ". The previous version keeps serving; check the new image's logs in CloudWatch "
            f"(/aws/sagemaker/Endpoints/{plan.endpoint_name})."
        )


def _after_failed_update(
    aws: boto3.Session,
    plan: SageMakerPlan,
    made: list[tuple[str, str]],
    saved: autoscaling.Snapshot | None,
) -> None:
    """The old version serves on: keep autoscaling on it, remove only what nothing uses
    (after UpdateRollbackFailed nothing is removed: ``destroy sagemaker`` cleans up)."""
    if saved is not None:
        autoscaling.restore(aws, saved)
    found = endpoint_status(aws, plan.endpoint_name) or {}
    if (
        found.get("EndpointStatus") == "InService"
        and found["EndpointConfigName"] != plan.config_name
    ):
        _remove(aws, made)


def _instance_type_changes(aws: boto3.Session, config_name: str, plan: SageMakerPlan) -> bool:
    """Whether the update moves the variant to another instance type (or to serverless)."""
    try:
        config = aws.client("sagemaker").describe_endpoint_config(EndpointConfigName=config_name)
    except Exception as exc:
        if is_not_found(exc):
            return True
        raise explain(exc, f"describing endpoint config {config_name}") from exc
    variant = config["ProductionVariants"][0]
    return str(variant.get("InstanceType", "")) != plan.instance_type


def finish(
    aws: boto3.Session,
    endpoint_name: str,
    min_replicas: int = MIN_REPLICAS,
    max_replicas: int = MAX_REPLICAS,
) -> tuple[list[str], bool]:
    """Once InService: delete the versions the endpoint no longer runs, register autoscaling.

    What a waiting deploy does at its end, and ``deploy sagemaker --finish`` after
    ``--no-wait``. Returns what it removed, and whether autoscaling is registered (not for
    a serverless endpoint).
    """
    found = endpoint_status(aws, endpoint_name)
    if found is None or found["EndpointStatus"] != "InService":
        state = "missing" if found is None else found["EndpointStatus"]
        raise DeployError(
            f"endpoint {endpoint_name} is {state}: run `deploy sagemaker --finish` again once "
            "it is InService (nothing was changed)."
        )
    running = str(found["EndpointConfigName"])
    try:
        config = aws.client("sagemaker").describe_endpoint_config(EndpointConfigName=running)
    except Exception as exc:
        raise explain(exc, f"describing endpoint config {running}") from exc
    variants = config["ProductionVariants"]
    in_use = {("config", running)} | {("model", v["ModelName"]) for v in variants}
    unused = [item for item in _versions(aws, endpoint_name) if item not in in_use]
    _remove(aws, unused)
    serverless = any("ServerlessConfig" in v for v in variants)
    if not serverless:
        autoscaling.register(aws, endpoint_name, min_replicas, max_replicas)
    return [f"{kind} {name}" for kind, name in unused], not serverless


def _versions(aws: boto3.Session, endpoint_name: str) -> list[tuple[str, str]]:
    """Every configuration and model this project made for the endpoint (by name prefix)."""
    sm = aws.client("sagemaker")
    prefix = f"{endpoint_name}-"
    try:
        configs = sm.list_endpoint_configs(NameContains=prefix, MaxResults=100)["EndpointConfigs"]
        models = sm.list_models(NameContains=prefix, MaxResults=100)["Models"]
    except Exception as exc:
        raise explain(exc, f"listing the resources of {endpoint_name}") from exc
    versions = [("config", c["EndpointConfigName"]) for c in configs] + [
        ("model", m["ModelName"]) for m in models
    ]
    return [(kind, name) for kind, name in versions if name.startswith(prefix)]


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


def invoke(
    aws: boto3.Session, endpoint_name: str, texts: list[str], *, chat: bool = ENGINE == "vllm"
) -> Any:
    """One request through SageMaker's runtime API to the container's ``/invocations``.

    ``chat``: the container is vLLM's server (engine=vllm, not AWS's Hugging Face container),
    whose ``/invocations`` takes OpenAI bodies: one chat completion, its text returned.
    """
    body = chat_request() if chat else {"inputs": texts}
    try:
        reply = aws.client("sagemaker-runtime").invoke_endpoint(
            EndpointName=endpoint_name,
            ContentType="application/json",
            Accept="application/json",
            Body=json.dumps(body).encode(),
        )
    except Exception as exc:
        raise explain(exc, f"invoking endpoint {endpoint_name}") from exc
    answer = json.loads(reply["Body"].read())
    if chat:
        return read_chat_reply(answer, where=f"endpoint {endpoint_name}")
    return answer


def destroy(aws: boto3.Session, endpoint_name: str) -> list[str]:
    """Delete the endpoint, every configuration and model of this project, and autoscaling.

    Idempotent: what is already gone is skipped. Returns what was deleted.
    """
    sm = aws.client("sagemaker")
    deleted = []
    if autoscaling.deregister(aws, endpoint_name):
        deleted.append(f"autoscaling {scaling_resource_id(endpoint_name)}")
    try:
        sm.delete_endpoint(EndpointName=endpoint_name)
        deleted.append(f"endpoint {endpoint_name}")
    except Exception as exc:
        if not is_not_found(exc):
            raise explain(exc, f"deleting endpoint {endpoint_name}") from exc
    versions = _versions(aws, endpoint_name)
    _remove(aws, versions)
    deleted += [f"{kind} {name}" for kind, name in versions]
    return deleted
