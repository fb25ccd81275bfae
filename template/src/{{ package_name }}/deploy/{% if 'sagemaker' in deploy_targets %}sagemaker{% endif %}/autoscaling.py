"""Autoscaling of the endpoint's variant (application-autoscaling): register, read, restore.

An update keeps it registered: AWS refuses an update that changes the instance type of a
variant with a scalable target, so only then is it removed first, from a snapshot that is
put back if the update fails or rolls back.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ...project import MAX_REPLICAS, MIN_REPLICAS
from .aws import explain, is_not_found
from .plan import (
    SCALABLE_DIMENSION,
    scaling_policy_request,
    scaling_resource_id,
    scaling_target_request,
)

if TYPE_CHECKING:
    import boto3

#: the policy fields PutScalingPolicy takes back from DescribeScalingPolicies
POLICY_FIELDS = (
    "PolicyName",
    "PolicyType",
    "TargetTrackingScalingPolicyConfiguration",
    "StepScalingPolicyConfiguration",
)


@dataclass(frozen=True)
class Snapshot:
    """A registered scalable target and its policies, as they were."""

    target: dict[str, Any]
    policies: list[dict[str, Any]]


def register(
    aws: boto3.Session,
    endpoint_name: str,
    min_replicas: int = MIN_REPLICAS,
    max_replicas: int = MAX_REPLICAS,
) -> None:
    """Target tracking on invocations per instance, between the answered replica bounds."""
    scaling = aws.client("application-autoscaling")
    try:
        scaling.register_scalable_target(
            **scaling_target_request(endpoint_name, min_replicas, max_replicas)
        )
        scaling.put_scaling_policy(**scaling_policy_request(endpoint_name))
    except Exception as exc:
        raise explain(exc, f"registering autoscaling for {endpoint_name}") from exc


def snapshot(aws: boto3.Session, endpoint_name: str) -> Snapshot | None:
    """The endpoint's scalable target and policies, or None when none is registered."""
    scaling = aws.client("application-autoscaling")
    where = {
        "ServiceNamespace": "sagemaker",
        "ResourceIds": [scaling_resource_id(endpoint_name)],
        "ScalableDimension": SCALABLE_DIMENSION,
    }
    try:
        targets = scaling.describe_scalable_targets(**where)["ScalableTargets"]
        if not targets:
            return None
        del where["ResourceIds"]
        policies = scaling.describe_scaling_policies(
            **where, ResourceId=scaling_resource_id(endpoint_name)
        )["ScalingPolicies"]
    except Exception as exc:
        raise explain(exc, f"reading the autoscaling of {endpoint_name}") from exc
    return Snapshot(targets[0], policies)


def restore(aws: boto3.Session, saved: Snapshot) -> None:
    """Register the target and put its policies back exactly as they were."""
    scaling = aws.client("application-autoscaling")
    target = saved.target
    common = {key: target[key] for key in ("ServiceNamespace", "ResourceId", "ScalableDimension")}
    try:
        scaling.register_scalable_target(
            **common, MinCapacity=target["MinCapacity"], MaxCapacity=target["MaxCapacity"]
        )
        for policy in saved.policies:
            fields = {key: policy[key] for key in POLICY_FIELDS if key in policy}
            scaling.put_scaling_policy(**common, **fields)
    except Exception as exc:
        raise explain(exc, f"restoring the autoscaling of {target['ResourceId']}") from exc


def deregister(aws: boto3.Session, endpoint_name: str) -> bool:
    """Remove our policy and the scalable target; False if there was no target.

    (AWS deletes a target's policies with it; deleting ours first also leaves none behind
    where that is not so.)
    """
    scaling = aws.client("application-autoscaling")
    try:
        scaling.delete_scaling_policy(
            PolicyName=scaling_policy_request(endpoint_name)["PolicyName"],
            ServiceNamespace="sagemaker",
            ResourceId=scaling_resource_id(endpoint_name),
            ScalableDimension=SCALABLE_DIMENSION,
        )
    except Exception as exc:
        if not is_not_found(exc):
            raise explain(exc, f"removing the scaling policy of {endpoint_name}") from exc
    try:
        scaling.deregister_scalable_target(
            ServiceNamespace="sagemaker",
            ResourceId=scaling_resource_id(endpoint_name),
            ScalableDimension=SCALABLE_DIMENSION,
        )
    except Exception as exc:
        if is_not_found(exc):
            return False
        raise explain(exc, f"removing autoscaling from {endpoint_name}") from exc
    return True
