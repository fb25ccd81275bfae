"""The Vertex AI deploy plan: the model's container spec, the machine, replicas and the
traffic split, decided before any API call. Pure functions only; ``vertex.py`` applies them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ...errors import DeployError
from ...project import (
    ENGINE,
    GCP_PROJECT,
    GCP_REGION,
    HARDWARE,
    MAX_REPLICAS,
    MIN_REPLICAS,
    PROJECT_SLUG,
    Hardware,
)
from ...settings import get_settings
from ..common import settings_env, vllm_env

#: Vertex AI's custom-container contract: it calls these routes on this port and passes them
#: to the container as AIP_PREDICT_ROUTE / AIP_HEALTH_ROUTE / AIP_HTTP_PORT. With vLLM, the
#: predict route is its OpenAI chat route, so ``rawPredict`` takes and returns OpenAI bodies.
PREDICT_ROUTE = "/v1/chat/completions" if ENGINE == "vllm" else "/vertex/predict"
HEALTH_ROUTE = "/health" if ENGINE == "vllm" else "/vertex/health"
DEFAULT_TIMEOUT_S = 3600.0
DEFAULT_POLL_S = 15.0


@dataclass(frozen=True)
class VertexPlan:
    project: str
    region: str
    endpoint_name: str  # display name of the endpoint (reused across deploys)
    model_name: str  # display name of this version's model
    image_uri: str
    port: int
    environment: dict[str, str]
    machine_type: str
    accelerator_type: str | None
    accelerator_count: int
    min_replicas: int = MIN_REPLICAS
    max_replicas: int = MAX_REPLICAS
    traffic_percent: int = 100
    labels: dict[str, str] = field(default_factory=lambda: {"managed-by": PROJECT_SLUG})


def server_environment(hardware: Hardware = HARDWARE) -> dict[str, str]:
    """Our image's settings on Vertex AI (the AIP_* variables are set by Vertex itself).

    Auth stays off: only IAM-authorised ``:predict`` calls reach the container.
    """
    if ENGINE == "vllm":
        return vllm_env()
    return settings_env(
        {"platform": "vertex", "host": "0.0.0.0", "device": hardware.device, "require_auth": False}
    )


def build_plan(
    *,
    image_uri: str,
    stamp: str,
    project: str = GCP_PROJECT,
    region: str = GCP_REGION,
    traffic_percent: int = 100,
    hardware: Hardware = HARDWARE,
) -> VertexPlan:
    if hardware.is_gpu and not hardware.vertex_accelerator:
        raise DeployError(
            f"Vertex AI does not offer {hardware.display_name}: choose another accelerator "
            "with `copier update --data accelerator=...`."
        )
    if not hardware.vertex_machine_type:
        raise DeployError(
            f"Vertex AI has no machine for {hardware.display_name} x{hardware.gpu_count}."
        )
    if not 1 <= traffic_percent <= 100:
        raise DeployError(f"--traffic-percent must be 1 to 100 (got {traffic_percent}).")
    if not image_uri or "/" not in image_uri:
        raise DeployError(
            "Vertex AI pulls from a registry: pass --image-uri "
            "(e.g. REGION-docker.pkg.dev/PROJECT/REPOSITORY/IMAGE:TAG)."
        )
    return VertexPlan(
        project=project,
        region=region,
        endpoint_name=PROJECT_SLUG,
        model_name=f"{PROJECT_SLUG}-{stamp}",
        image_uri=image_uri,
        port=get_settings().port,
        environment=server_environment(hardware),
        machine_type=hardware.vertex_machine_type,
        accelerator_type=hardware.vertex_accelerator or None,
        accelerator_count=hardware.gpu_count,
        traffic_percent=traffic_percent,
    )


def upload_arguments(plan: VertexPlan) -> dict[str, Any]:
    """Keyword arguments of ``aiplatform.Model.upload`` (the container spec)."""
    return {
        "display_name": plan.model_name,
        "serving_container_image_uri": plan.image_uri,
        "serving_container_predict_route": PREDICT_ROUTE,
        "serving_container_health_route": HEALTH_ROUTE,
        "serving_container_ports": [plan.port],
        "serving_container_environment_variables": plan.environment,
        "labels": plan.labels,
    }


def deployed_model(plan: VertexPlan, model_resource_name: str) -> Any:
    """The DeployedModel message: machine, accelerator enum and count, replica bounds."""
    from google.cloud.aiplatform import gapic

    machine = gapic.MachineSpec(machine_type=plan.machine_type)
    if plan.accelerator_type:
        machine.accelerator_type = getattr(gapic.AcceleratorType, plan.accelerator_type)
        machine.accelerator_count = plan.accelerator_count
    return gapic.DeployedModel(
        model=model_resource_name,
        display_name=plan.model_name,
        dedicated_resources=gapic.DedicatedResources(
            machine_spec=machine,
            min_replica_count=plan.min_replicas,
            max_replica_count=plan.max_replicas,
        ),
    )


def traffic_split(current: dict[str, int], percent: int) -> dict[str, int]:
    """New model ("0") gets ``percent``; the rest keeps its proportions (sums to 100)."""
    if percent == 100 or not current:
        return {"0": 100}
    remaining, total = 100 - percent, sum(current.values()) or 1
    split = {key: value * remaining // total for key, value in current.items()}
    first = next(iter(split))
    split[first] += remaining - sum(split.values())
    return {"0": percent, **split}


def compute(plan: VertexPlan) -> str:
    """The machine in words, every accelerator named (one model worker per GPU)."""
    accelerator = (
        f" + {plan.accelerator_count} x {plan.accelerator_type}" if plan.accelerator_type else ""
    )
    return f"{plan.machine_type}{accelerator}"


def predict_url(plan: VertexPlan, endpoint_resource: str) -> str:
    """Where clients call the model: ``:rawPredict`` with vLLM (OpenAI bodies, docs/vllm.md)."""
    verb = "rawPredict" if ENGINE == "vllm" else "predict"
    return f"https://{plan.region}-aiplatform.googleapis.com/v1/{endpoint_resource}:{verb}"


def summary(plan: VertexPlan, *, registry_repository: str = "") -> list[tuple[str, str]]:
    """What ``deploy`` would create, in order, as (kind, description) pairs."""
    steps: list[tuple[str, str]] = []
    if registry_repository:
        steps += [
            (
                "artifact-registry",
                f"{registry_repository.rsplit('/', 1)[0]} (Docker repository, created if missing)",
            ),
            ("image-push", f"the local build to {registry_repository}; the model runs its digest"),
        ]
    steps += [
        (
            "model",
            f"{plan.model_name} (image {plan.image_uri}, port {plan.port}, "
            f"routes {PREDICT_ROUTE} {HEALTH_ROUTE})",
        ),
        ("endpoint", f"{plan.endpoint_name} in {plan.project}/{plan.region} (reused if it exists)"),
        (
            "deployment",
            f"{compute(plan)}, {plan.min_replicas}-{plan.max_replicas} replicas, "
            f"{plan.traffic_percent}% of traffic",
        ),
    ]
    return steps
