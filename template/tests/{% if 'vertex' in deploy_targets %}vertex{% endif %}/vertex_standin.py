"""A local stand-in for the Vertex AI v1 REST API: resources in memory, request bodies recorded.

There is no Vertex AI emulator; the real google-cloud-aiplatform SDK talks to this over
plain HTTP (``api_transport="rest"``). It answers the calls the deploy makes the way the
v1 API documents them: long-running operations come back finished, enums arrive as integers
(``$alt=json;enum-encoding=int``), models list ``supportedDeploymentResourcesTypes``
(without it the SDK drops machine settings) and resources carry ``createTime`` (without it
the SDK re-reads them after a delete). ``fail_next`` makes the next matching call fail with
an HTTP error, as quota or permission problems do.

It also answers the Artifact Registry v1 calls the deploy makes (get a repository, create
one with ``?repositoryId=``: a long-running operation, as the API documents), so the same
server stands in for ``artifactregistry.googleapis.com``; ``Authorization`` headers are
recorded with each request.
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import unquote

from ..live_server import http_standin

CREATED = "2026-01-01T00:00:00Z"
TYPE = "type.googleapis.com/google.cloud.aiplatform.v1."


@dataclass
class Recorded:
    method: str
    path: str
    body: dict[str, Any]
    authorization: str = ""


@dataclass
class VertexStandIn:
    """In-memory models and endpoints, enough for upload, deploy, predict, undeploy, delete."""

    url: str = ""
    requests: list[Recorded] = field(default_factory=list)
    models: dict[str, dict[str, Any]] = field(default_factory=dict)
    endpoints: dict[str, dict[str, Any]] = field(default_factory=dict)
    repositories: dict[str, dict[str, Any]] = field(default_factory=dict)
    predict: Callable[[list[Any]], list[Any]] = lambda instances: [[0.0] for _ in instances]
    #: what the container's predict route answers a ``:rawPredict`` body with (Vertex passes
    #: the body through as it is): a canned OpenAI chat completion unless a test says otherwise
    raw_predict: Callable[[dict[str, Any]], dict[str, Any]] = lambda body: {
        "object": "chat.completion",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "ok"}}],
    }
    #: route suffix -> (HTTP code, status, message) for the next call to it
    fail_next: dict[str, tuple[int, str, str]] = field(default_factory=dict)
    _ids: Iterator[int] = field(default_factory=lambda: itertools.count(1000))

    def bodies(self, suffix: str, method: str = "POST") -> list[dict[str, Any]]:
        """Bodies of the requests to routes ending in ``suffix``, oldest first."""
        return [
            r.body
            for r in self.requests
            if r.method == method and r.path.split("?")[0].endswith(suffix)
        ]

    def handle(
        self, method: str, path: str, body: dict[str, Any], authorization: str = ""
    ) -> tuple[int, dict[str, Any]]:
        self.requests.append(Recorded(method, path, body, authorization))
        for suffix, failure in list(self.fail_next.items()):
            if path.split("?")[0].endswith(suffix):
                del self.fail_next[suffix]
                return failure[0], _error(*failure)
        route = unquote(path.split("?")[0]).removeprefix("/v1/").split("@")[0]
        parent = re.match(r"^(projects/[^/]+/locations/[^/]+)/", route)
        prefix = parent.group(1) if parent else ""
        if "/repositories" in route:
            return self._artifact_registry(method, route, path)
        if route.endswith("/models:upload") and method == "POST":
            name = f"{prefix}/models/{next(self._ids)}"
            self.models[name] = {
                **body["model"],
                "name": name,
                "versionId": "1",
                "createTime": CREATED,
                "supportedDeploymentResourcesTypes": ["DEDICATED_RESOURCES"],
            }
            return 200, _done(
                {"@type": TYPE + "UploadModelResponse", "model": name, "modelVersionId": "1"}
            )
        if route.endswith("/endpoints") and method == "POST":
            name = f"{prefix}/endpoints/{next(self._ids)}"
            self.endpoints[name] = {
                **body,
                "name": name,
                "deployedModels": [],
                "trafficSplit": {},
                "createTime": CREATED,
            }
            return 200, _done({"@type": TYPE + "Endpoint", **self.endpoints[name]})
        if method == "GET" and route.endswith(("/endpoints", "/models")):
            store = self.endpoints if route.endswith("/endpoints") else self.models
            key = "endpoints" if route.endswith("/endpoints") else "models"
            return 200, {key: [i for i in store.values() if _matches(i, unquote(path))]}
        verbs = "deployModel|undeployModel|predict|rawPredict"
        match = re.match(rf"^(.*/endpoints/\d+):({verbs})$", route)
        if match and method == "POST":
            endpoint = self.endpoints.get(match.group(1))
            if endpoint is None:
                return _not_found(route)
            handler: Callable[[dict[str, Any], dict[str, Any]], tuple[int, dict[str, Any]]]
            handler = getattr(self, "_" + match.group(2))
            return handler(endpoint, body)
        if route.startswith("projects/") and "/operations/" in route:
            return 200, {"name": route, "done": True}
        for store in (self.models, self.endpoints):
            if route in store:
                if method == "GET":
                    return 200, store[route]
                if method == "DELETE":
                    if store is self.endpoints and store[route]["deployedModels"]:
                        return 400, _error(
                            400, "FAILED_PRECONDITION", "endpoint has deployed models"
                        )
                    del store[route]
                    return 200, _done({"@type": "type.googleapis.com/google.protobuf.Empty"})
        return _not_found(route)

    def _artifact_registry(self, method: str, route: str, path: str) -> tuple[int, dict[str, Any]]:
        """projects/P/locations/L/repositories[/R]: get, or create (an operation)."""
        if method == "GET" and route in self.repositories:
            return 200, self.repositories[route]
        query = re.search(r"[?&]repositoryId=([^&]+)", path)
        if method == "POST" and route.endswith("/repositories") and query:
            name = f"{route}/{query.group(1)}"
            if name in self.repositories:
                return 409, _error(409, "ALREADY_EXISTS", f"{name} already exists")
            self.repositories[name] = {**self.requests[-1].body, "name": name}
            operation = f"{route.rsplit('/', 1)[0]}/operations/{next(self._ids)}"
            return 200, {"name": operation, "done": False}
        return _not_found(route)

    def _deployModel(
        self, endpoint: dict[str, Any], body: dict[str, Any]
    ) -> tuple[int, dict[str, Any]]:
        deployed = {**body["deployedModel"], "id": str(next(self._ids))}
        endpoint["deployedModels"].append(deployed)
        split = body.get("trafficSplit") or {"0": 100}
        endpoint["trafficSplit"] = {
            (deployed["id"] if k == "0" else k): v for k, v in split.items() if v
        }
        return 200, _done({"@type": TYPE + "DeployModelResponse", "deployedModel": deployed})

    def _undeployModel(
        self, endpoint: dict[str, Any], body: dict[str, Any]
    ) -> tuple[int, dict[str, Any]]:
        gone = body["deployedModelId"]
        endpoint["deployedModels"] = [d for d in endpoint["deployedModels"] if d["id"] != gone]
        split = body.get("trafficSplit") or {
            k: v for k, v in endpoint["trafficSplit"].items() if k != gone
        }
        endpoint["trafficSplit"] = {k: v for k, v in split.items() if v}
        return 200, _done({"@type": TYPE + "UndeployModelResponse"})

    def _predict(
        self, endpoint: dict[str, Any], body: dict[str, Any]
    ) -> tuple[int, dict[str, Any]]:
        if not endpoint["deployedModels"]:
            return 400, _error(400, "FAILED_PRECONDITION", "no model deployed")
        deployed = endpoint["deployedModels"][-1]["id"]
        return 200, {"predictions": self.predict(body["instances"]), "deployedModelId": deployed}

    def _rawPredict(
        self, endpoint: dict[str, Any], body: dict[str, Any]
    ) -> tuple[int, dict[str, Any]]:
        if not endpoint["deployedModels"]:
            return 400, _error(400, "FAILED_PRECONDITION", "no model deployed")
        return 200, self.raw_predict(body)


def _matches(resource: dict[str, Any], query: str) -> bool:
    """The subset of AIP-160 filters the deploy uses: display_name="x" AND labels.k="v"."""
    for key, value in re.findall(r'([\w.-]+)="([^"]*)"', query):
        if key == "display_name" and resource.get("displayName") != value:
            return False
        if key.startswith("labels.") and resource.get("labels", {}).get(key[7:]) != value:
            return False
    return True


def _done(response: dict[str, Any]) -> dict[str, Any]:
    return {"name": "projects/p/locations/l/operations/1", "done": True, "response": response}


def _error(code: int, status: str, message: str) -> dict[str, Any]:
    return {"error": {"code": code, "status": status, "message": message}}


def _not_found(route: str) -> tuple[int, dict[str, Any]]:
    return 404, _error(404, "NOT_FOUND", f"{route} not found")


@contextmanager
def serve_vertex_standin() -> Iterator[VertexStandIn]:
    """Run the stand-in on 127.0.0.1 (a free port) for the duration of the block."""
    state = VertexStandIn()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def _serve(self, method: str) -> None:
            length = int(self.headers.get("content-length") or 0)
            body = json.loads(self.rfile.read(length)) if length else {}
            authorization = self.headers.get("authorization") or ""
            code, reply = state.handle(method, self.path, body, authorization)
            data = json.dumps(reply).encode()
            self.send_response(code)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            self._serve("GET")

        def do_POST(self) -> None:
            self._serve("POST")

        def do_DELETE(self) -> None:
            self._serve("DELETE")

    with http_standin(Handler) as port:
        state.url = f"http://127.0.0.1:{port}"
        yield state
