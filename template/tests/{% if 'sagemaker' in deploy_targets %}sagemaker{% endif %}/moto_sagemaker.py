"""A moto server on 127.0.0.1 for the SageMaker deploy tests (real boto3, real HTTP).

moto 5 implements models, endpoint configurations, endpoints, ECR, S3, STS and
application-autoscaling, but not ``UpdateEndpoint``; ``serve_moto`` adds a stand-in for it
that does what SageMaker does at the end of an update (the endpoint now runs the new
configuration). moto's instance-type list is old: it rejects ml.g5.*, ml.g6.*, ml.p4*,
ml.p5.* and ml.c6i.* (real SageMaker accepts them), which ``MOTO_INSTANCE_TYPES`` records.
"""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

#: an instance type moto accepts, for flows whose real instance type moto rejects
MOTO_GPU_INSTANCE = "ml.g4dn.xlarge"
ACCOUNT = "123456789012"


def moto_accepts(instance_type: str) -> bool:
    from moto.sagemaker.exceptions import ValidationError
    from moto.sagemaker.models import FakeEndpointConfig

    try:
        FakeEndpointConfig.validate_instance_type(None, instance_type)  # type: ignore[arg-type]
    except ValidationError:
        return False
    return True


def _update_endpoint(self: Any) -> Any:
    """Stand-in for UpdateEndpoint: point the endpoint at the new configuration."""
    from moto.core.responses import ActionResult

    backend = self.sagemaker_backend
    endpoint = backend.endpoints[self._get_param("EndpointName")]
    config = backend.describe_endpoint_config(self._get_param("EndpointConfigName"))
    endpoint.endpoint_config_name = config["EndpointConfigName"]
    endpoint.production_variants = endpoint._process_production_variants(
        config["ProductionVariants"]
    )
    return ActionResult({"EndpointArn": endpoint.arn})


@contextmanager
def serve_moto() -> Iterator[str]:
    """Run moto's server on a free port of 127.0.0.1; yield its URL."""
    from moto.sagemaker.responses import SageMakerResponse
    from moto.server import ThreadedMotoServer

    added = not hasattr(SageMakerResponse, "update_endpoint")
    if added:
        SageMakerResponse.update_endpoint = _update_endpoint  # type: ignore[attr-defined]
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()
        if added:
            del SageMakerResponse.update_endpoint  # type: ignore[attr-defined]


def reset(url: str) -> None:
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
