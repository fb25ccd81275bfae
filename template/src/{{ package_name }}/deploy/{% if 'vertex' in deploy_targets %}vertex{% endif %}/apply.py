"""Deploy to GCP Vertex AI with google-cloud-aiplatform: upload the model with our container,
create or reuse the endpoint, deploy with the catalog's machine, split traffic, predict,
undeploy and delete.

Call ``gcp.connect(...)`` first; the plan comes from ``plan``.
"""

from __future__ import annotations

import logging
from typing import Any

from ...errors import DeployError
from ..common import Status, wait_for
from ..openai_client import post_chat
from .gcp import explain
from .plan import (
    DEFAULT_POLL_S,
    DEFAULT_TIMEOUT_S,
    VertexPlan,
    deployed_model,
    traffic_split,
    upload_arguments,
)

log = logging.getLogger(__name__)


def find_endpoint(display_name: str) -> Any | None:
    """The endpoint with this display name (the newest if several), or None."""
    from google.cloud import aiplatform

    try:
        found = aiplatform.Endpoint.list(
            filter=f'display_name="{display_name}"', order_by="create_time desc"
        )
    except Exception as exc:
        raise explain(exc, f"looking up endpoint {display_name}") from exc
    return aiplatform.Endpoint(found[0].resource_name) if found else None


def deploy(
    plan: VertexPlan,
    *,
    wait: bool = True,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    poll_s: float = DEFAULT_POLL_S,
    show_progress: bool = True,
) -> tuple[str, str]:
    """Upload, then deploy onto the (new or reused) endpoint; returns (endpoint, model) names.

    With 100% of traffic on the new model, the models it replaces are undeployed and
    deleted once it serves; a smaller share leaves them serving the rest (a canary).
    """
    from google.cloud import aiplatform

    endpoint = find_endpoint(plan.endpoint_name)  # also checks access before creating anything
    try:
        model = aiplatform.Model.upload(**upload_arguments(plan), sync=True)
        if endpoint is None:
            endpoint = aiplatform.Endpoint.create(
                display_name=plan.endpoint_name, labels=plan.labels, sync=True
            )
        previous = dict(endpoint.traffic_split)
        operation = endpoint.api_client.deploy_model(
            endpoint=endpoint.resource_name,
            deployed_model=deployed_model(plan, model.resource_name),
            traffic_split=traffic_split(previous, plan.traffic_percent),
        )
    except Exception as exc:
        raise explain(exc, f"deploying {plan.model_name}") from exc
    if not wait:
        log.info("deploy submitted: %s", operation.operation.name)
        return endpoint.resource_name, model.resource_name

    def describe() -> Status:
        return Status("done" if operation.done() else "deploying", done=operation.done())

    wait_for(
        describe,
        what=f"deploying {plan.model_name} to {plan.endpoint_name}",
        timeout_s=timeout_s,
        poll_s=poll_s,
        show_progress=show_progress,
    )
    try:
        operation.result(timeout=timeout_s)
        if plan.traffic_percent == 100:
            retire(aiplatform.Endpoint(endpoint.resource_name), keep=model.resource_name)
    except Exception as exc:
        raise explain(exc, f"deploying {plan.model_name}") from exc
    return endpoint.resource_name, model.resource_name


def retire(endpoint: Any, keep: str) -> list[str]:
    """Undeploy every model but ``keep`` from the endpoint and delete those models."""
    from google.cloud import aiplatform

    gone = []
    for deployed in endpoint.list_models():
        if deployed.model.split("@")[0] == keep:
            continue
        endpoint.undeploy(deployed_model_id=deployed.id, sync=True)
        aiplatform.Model(deployed.model.split("@")[0]).delete(sync=True)
        gone.append(deployed.model)
    return gone


def predict(endpoint_name: str, instances: list[Any]) -> list[Any]:
    """One ``:predict`` call; Vertex wraps it as {"instances": [...]} -> {"predictions": [...]}."""
    endpoint = find_endpoint(endpoint_name)
    if endpoint is None:
        raise DeployError(
            f"no endpoint named {endpoint_name} in this project and region: deploy first"
        )
    try:
        return list(endpoint.predict(instances=instances).predictions)
    except Exception as exc:
        raise explain(exc, f"predicting with {endpoint_name}") from exc


def destroy(endpoint_name: str, labels: dict[str, str]) -> list[str]:
    """Undeploy and delete the endpoint, then every model with our labels (idempotent)."""
    from google.cloud import aiplatform

    deleted = []
    try:
        while (endpoint := find_endpoint(endpoint_name)) is not None:
            endpoint.undeploy_all(sync=True)
            aiplatform.Endpoint(endpoint.resource_name).delete(sync=True)
            deleted.append(f"endpoint {endpoint.resource_name}")
        selector = " AND ".join(f'labels.{key}="{value}"' for key, value in labels.items())
        for model in aiplatform.Model.list(filter=selector):
            name = model.resource_name
            aiplatform.Model(name).delete(sync=True)
            deleted.append(f"model {name}")
    except Exception as exc:
        raise explain(exc, f"deleting {endpoint_name}") from exc
    return deleted


def chat(
    endpoint_name: str, credentials: Any, *, api_endpoint: str = "", timeout_s: float = 300
) -> str:
    """engine=vllm: one OpenAI chat completion through ``:rawPredict``, which hands the body
    as it is to the container's predict route (vLLM's ``/v1/chat/completions``); its text."""
    import google.auth.transport.requests

    endpoint = find_endpoint(endpoint_name)
    if endpoint is None:
        raise DeployError(
            f"no endpoint named {endpoint_name} in this project and region: deploy first"
        )
    base = api_endpoint or f"https://{endpoint.location}-aiplatform.googleapis.com"
    url = f"{base.rstrip('/')}/v1/{endpoint.resource_name}:rawPredict"
    headers: dict[str, str] = {}
    credentials.before_request(google.auth.transport.requests.Request(), "POST", url, headers)
    return post_chat(url, headers=headers, timeout_s=timeout_s)
