"""A moto server on 127.0.0.1 for the SageMaker deploy tests (real boto3, real HTTP).

moto 5 implements models, endpoint configurations, endpoints, ECR, S3, STS and
application-autoscaling, but not ``UpdateEndpoint``; ``serve_moto`` adds a stand-in for it
that does what SageMaker does at the end of an update (the endpoint now runs the new
configuration), or, after ``fail_next_update``, what a failed update ends in: refused
outright, rolled back to the old configuration (InService, as after SageMaker's
asynchronous rollback), or ``UpdateRollbackFailed``.

Instance types, a documented patch: moto has no setting for them, and its hard-coded list
(``FakeEndpointConfig.validate_instance_type``) is old: it rejects ml.g5.*, ml.g6.*, ml.p4d.*,
ml.p5.* and ml.c6i.*, which real SageMaker accepts. While the server runs, ``serve_moto``
widens that check to every type in botocore's own SageMaker service model
(``ProductionVariantInstanceType``, the enum AWS publishes for endpoint variants), so a GPU
project's real instance type is deployed and destroyed; a type AWS does not list is still
refused, as SageMaker refuses it.
"""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

ACCOUNT = "123456789012"
#: how the next UpdateEndpoint ends: "apply" (SageMaker's success), "refuse" (a
#: ValidationException at once), "rollback" (InService again on the old configuration),
#: "rollback-failed" (UpdateRollbackFailed)
UPDATE_OUTCOME = {"next": "apply"}


def fail_next_update(outcome: str) -> None:
    assert outcome in {"refuse", "rollback", "rollback-failed"}
    UPDATE_OUTCOME["next"] = outcome


def aws_instance_types() -> frozenset[str]:
    """Every instance type AWS lists for endpoint variants (botocore's service model)."""
    import botocore.session

    model = botocore.session.get_session().get_service_model("sagemaker")
    return frozenset(model.shape_for("ProductionVariantInstanceType").enum)


def _update_endpoint(self: Any) -> Any:
    """Stand-in for UpdateEndpoint: point the endpoint at the new configuration."""
    from moto.core.responses import ActionResult
    from moto.sagemaker.exceptions import ValidationError

    outcome, UPDATE_OUTCOME["next"] = UPDATE_OUTCOME["next"], "apply"
    backend = self.sagemaker_backend
    endpoint = backend.endpoints[self._get_param("EndpointName")]
    config = backend.describe_endpoint_config(self._get_param("EndpointConfigName"))
    if outcome == "refuse":
        raise ValidationError(message="Cannot update in-progress endpoint (stand-in refusal)")
    if outcome == "rollback":
        endpoint.failure_reason = "The primary container did not pass the ping health check."
        return ActionResult({"EndpointArn": endpoint.arn})
    if outcome == "rollback-failed":
        endpoint.endpoint_status = "UpdateRollbackFailed"
        endpoint.failure_reason = "The rollback of the update failed."
        return ActionResult({"EndpointArn": endpoint.arn})
    endpoint.endpoint_config_name = config["EndpointConfigName"]
    endpoint.production_variants = endpoint._process_production_variants(
        config["ProductionVariants"]
    )
    return ActionResult({"EndpointArn": endpoint.arn})


@contextmanager
def serve_moto() -> Iterator[str]:
    """Run moto's server on a free port of 127.0.0.1; yield its URL."""
    from moto.sagemaker.models import FakeEndpointConfig
    from moto.sagemaker.responses import SageMakerResponse
    from moto.server import ThreadedMotoServer

    added = not hasattr(SageMakerResponse, "update_endpoint")
    if added:
        SageMakerResponse.update_endpoint = _update_endpoint  # type: ignore[attr-defined]
    moto_check = FakeEndpointConfig.validate_instance_type
    known = aws_instance_types()

    def validate_instance_type(self: Any, instance_type: str) -> None:
        if instance_type not in known:
            moto_check(self, instance_type)

    FakeEndpointConfig.validate_instance_type = validate_instance_type  # type: ignore[method-assign]
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()
        FakeEndpointConfig.validate_instance_type = moto_check  # type: ignore[method-assign]
        if added:
            del SageMakerResponse.update_endpoint  # type: ignore[attr-defined]


def reset(url: str) -> None:
    UPDATE_OUTCOME["next"] = "apply"
    urllib.request.urlopen(urllib.request.Request(f"{url}/moto-api/reset", method="POST"))


def queue_invoke_result(url: str, region: str, body: Any) -> None:
    """What the next InvokeEndpoint returns (moto runs no container; it replays these)."""
    payload = {
        "results": [
            {
                "Body": json.dumps(body),
                "ContentType": "application/json",
                "InvokedProductionVariant": "AllTraffic",
                "CustomAttributes": "",
            }
        ],
        "region": region,
        "account_id": ACCOUNT,
    }
    request = urllib.request.Request(
        f"{url}/moto-api/static/sagemaker/endpoint-results",
        data=json.dumps(payload).encode(),
        method="POST",
        headers={"content-type": "application/json"},
    )
    urllib.request.urlopen(request)


def endpoint_backend(region: str) -> Any:
    """moto's in-process SageMaker state (the server runs in this process)."""
    from moto.sagemaker.models import sagemaker_backends

    return sagemaker_backends[ACCOUNT][region]


def container_answer(engine: str, outputs: list[Any]) -> tuple[Any, Any]:
    """(what the container answers InvokeEndpoint with, what ``invoke`` then returns).

    The built-in server answers ``{"outputs": ...}``. vLLM's ``/invocations`` answers an
    OpenAI chat completion, of which ``invoke`` returns the text; moto replays this canned
    one (the client is checked against a real server's answer in tests/test_openai_client.py).
    """
    if engine != "vllm":
        return {"outputs": outputs}, {"outputs": outputs}
    text = json.dumps(outputs)
    message = {"role": "assistant", "content": text}
    completion = {"object": "chat.completion", "choices": [{"index": 0, "message": message}]}
    return completion, text
