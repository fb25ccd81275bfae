"""The SageMaker deploy plan: names, sizes and request bodies, decided before any API call.

Pure functions only; ``sagemaker.py`` applies them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ...errors import DeployError
from ...project import (
    ENGINE,
    HARDWARE,
    MAX_REPLICAS,
    MIN_REPLICAS,
    PROJECT_SLUG,
    SAGEMAKER_SERVERLESS,
    Hardware,
)
from ..common import settings_env, version_stamp, vllm_env

VARIANT = "AllTraffic"
#: SageMaker's container contract: it sends traffic to port 8080 and unpacks weights here
SAGEMAKER_PORT = 8080
SAGEMAKER_MODEL_DIR = "/opt/ml/model"
SCALABLE_DIMENSION = "sagemaker:variant:DesiredInstanceCount"
#: serverless sizes: memory 1024-6144 MB in 1024 MB steps; concurrency 1-200 per endpoint
SERVERLESS_MEMORY_MB = 4096
SERVERLESS_MAX_CONCURRENCY = 5
#: target tracking: invocations per instance per minute before another instance is added
TARGET_INVOCATIONS_PER_INSTANCE = 100.0
SCALE_IN_COOLDOWN_S = 300
SCALE_OUT_COOLDOWN_S = 60
DEFAULT_TIMEOUT_S = 1800.0
DEFAULT_POLL_S = 15.0


@dataclass(frozen=True)
class SageMakerPlan:
    """Everything one deploy creates, decided before any API call."""

    endpoint_name: str
    model_name: str
    config_name: str
    image_uri: str
    role_arn: str
    environment: dict[str, str]
    model_data_url: str | None
    instance_type: str
    instance_count: int
    serverless_memory_mb: int | None = None
    serverless_max_concurrency: int | None = None
    min_replicas: int = MIN_REPLICAS
    max_replicas: int = MAX_REPLICAS
    tags: dict[str, str] = field(default_factory=lambda: {"managed-by": PROJECT_SLUG})

    @property
    def serverless(self) -> bool:
        return self.serverless_memory_mb is not None


def server_environment(model_data_url: str | None, hardware: Hardware = HARDWARE) -> dict[str, str]:
    """Our image's settings on SageMaker: port 8080 on every interface, weights from S3 if any.

    Auth stays off: only IAM-signed InvokeEndpoint calls reach a SageMaker container. With
    engine=vllm the image is vLLM's server, which serves SageMaker's /ping and /invocations
    itself (docs/vllm.md): it gets its arguments instead.
    """
    if ENGINE == "vllm":
        return vllm_env(SAGEMAKER_MODEL_DIR) if model_data_url else vllm_env()
    values: dict[str, object] = {
        "platform": "sagemaker",
        "host": "0.0.0.0",
        "port": SAGEMAKER_PORT,
        "device": hardware.device,
        "require_auth": False,
    }
    if model_data_url:
        values["model_dir"] = SAGEMAKER_MODEL_DIR
    return settings_env(values)


def build_plan(
    *,
    image_uri: str,
    role_arn: str,
    environment: dict[str, str],
    model_data_url: str | None = None,
    serverless: bool = SAGEMAKER_SERVERLESS,
    memory_mb: int = SERVERLESS_MEMORY_MB,
    max_concurrency: int = SERVERLESS_MAX_CONCURRENCY,
    stamp: str | None = None,
    hardware: Hardware = HARDWARE,
) -> SageMakerPlan:
    if serverless and hardware.is_gpu:
        raise DeployError(
            f"SageMaker Serverless Inference has no GPUs and this project runs on "
            f"{hardware.display_name}: deploy without --serverless."
        )
    if not serverless and not hardware.sagemaker_instance_type:
        raise DeployError(
            f"SageMaker has no instance type for {hardware.display_name} x{hardware.gpu_count}: "
            "choose another accelerator or count with `copier update`."
        )
    if serverless and (memory_mb % 1024 or not 1024 <= memory_mb <= 6144):
        raise DeployError(f"--memory-mb must be 1024 to 6144 in steps of 1024 (got {memory_mb}).")
    if not role_arn.startswith("arn:"):
        raise DeployError(
            "--role-arn must be the ARN of a SageMaker execution role (arn:aws:iam::...)."
        )
    endpoint = PROJECT_SLUG[:40]
    version = f"{endpoint}-{stamp or version_stamp()}"
    return SageMakerPlan(
        endpoint_name=endpoint,
        model_name=version,
        config_name=version,
        image_uri=image_uri,
        role_arn=role_arn,
        environment=environment,
        model_data_url=model_data_url,
        instance_type="" if serverless else hardware.sagemaker_instance_type,
        instance_count=MIN_REPLICAS,
        serverless_memory_mb=memory_mb if serverless else None,
        serverless_max_concurrency=max_concurrency if serverless else None,
    )


def _tags(plan: SageMakerPlan) -> list[dict[str, str]]:
    return [{"Key": key, "Value": value} for key, value in plan.tags.items()]


def model_request(plan: SageMakerPlan) -> dict[str, Any]:
    container: dict[str, Any] = {"Image": plan.image_uri, "Environment": plan.environment}
    if plan.model_data_url:
        container["ModelDataUrl"] = plan.model_data_url
    return {
        "ModelName": plan.model_name,
        "ExecutionRoleArn": plan.role_arn,
        "PrimaryContainer": container,
        "Tags": _tags(plan),
    }


def endpoint_config_request(plan: SageMakerPlan) -> dict[str, Any]:
    variant: dict[str, Any] = {"VariantName": VARIANT, "ModelName": plan.model_name}
    if plan.serverless:
        variant["ServerlessConfig"] = {
            "MemorySizeInMB": plan.serverless_memory_mb,
            "MaxConcurrency": plan.serverless_max_concurrency,
        }
    else:
        variant.update(InstanceType=plan.instance_type, InitialInstanceCount=plan.instance_count)
    return {
        "EndpointConfigName": plan.config_name,
        "ProductionVariants": [variant],
        "Tags": _tags(plan),
    }


def scaling_resource_id(endpoint_name: str) -> str:
    return f"endpoint/{endpoint_name}/variant/{VARIANT}"


def scaling_target_request(
    endpoint_name: str, min_replicas: int = MIN_REPLICAS, max_replicas: int = MAX_REPLICAS
) -> dict[str, Any]:
    return {
        "ServiceNamespace": "sagemaker",
        "ResourceId": scaling_resource_id(endpoint_name),
        "ScalableDimension": SCALABLE_DIMENSION,
        "MinCapacity": min_replicas,
        "MaxCapacity": max_replicas,
    }


def scaling_policy_request(endpoint_name: str) -> dict[str, Any]:
    return {
        "PolicyName": f"{endpoint_name}-invocations",
        "ServiceNamespace": "sagemaker",
        "ResourceId": scaling_resource_id(endpoint_name),
        "ScalableDimension": SCALABLE_DIMENSION,
        "PolicyType": "TargetTrackingScaling",
        "TargetTrackingScalingPolicyConfiguration": {
            "TargetValue": TARGET_INVOCATIONS_PER_INSTANCE,
            "PredefinedMetricSpecification": {
                "PredefinedMetricType": "SageMakerVariantInvocationsPerInstance"
            },
            "ScaleInCooldown": SCALE_IN_COOLDOWN_S,
            "ScaleOutCooldown": SCALE_OUT_COOLDOWN_S,
        },
    }


def endpoint_url(region: str, endpoint_name: str) -> str:
    """Where InvokeEndpoint sends requests (SigV4-signed, service ``sagemaker``)."""
    return f"https://runtime.sagemaker.{region}.amazonaws.com/endpoints/{endpoint_name}/invocations"


def compute(plan: SageMakerPlan, hardware: Hardware = HARDWARE) -> str:
    """The endpoint's compute in words, GPUs included (all of them serve: one worker each)."""
    if plan.serverless:
        return (
            f"serverless, {plan.serverless_memory_mb} MB, "
            f"max concurrency {plan.serverless_max_concurrency}"
        )
    gpus = f" ({hardware.gpu_count} x {hardware.display_name} each)" if hardware.is_gpu else ""
    return f"{plan.instance_count} x {plan.instance_type}{gpus}"


def summary(
    plan: SageMakerPlan, *, ecr_repository: str = "", weights_dir: str = ""
) -> list[tuple[str, str]]:
    """What ``deploy`` would create, in order, as (kind, description) pairs (for --dry-run,
    --json and the confirmation)."""
    steps: list[tuple[str, str]] = []
    if ecr_repository:
        steps += [
            ("ecr-repository", f"{ecr_repository} (created if missing, scan on push)"),
            ("image-push", f"the local build to {ecr_repository}; the model runs its digest"),
        ]
    if plan.model_data_url:
        steps.append(("s3-upload", f"{weights_dir or 'the weights'} -> {plan.model_data_url}"))
    steps += [
        ("model", f"{plan.model_name} (image {plan.image_uri})"),
        ("endpoint-config", f"{plan.config_name} ({compute(plan)})"),
        ("endpoint", f"{plan.endpoint_name} (created, or updated in place if it exists)"),
    ]
    if not plan.serverless:
        steps.append(
            (
                "autoscaling",
                f"{plan.min_replicas}-{plan.max_replicas} instances, target "
                f"{TARGET_INVOCATIONS_PER_INSTANCE:.0f} invocations/instance/minute",
            )
        )
    return steps
