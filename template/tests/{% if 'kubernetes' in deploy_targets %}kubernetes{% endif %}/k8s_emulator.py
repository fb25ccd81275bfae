"""A Kubernetes API on 127.0.0.1 for the deploy tests: kmock's KubernetesEmulator, extended.

kmock serves discovery, get, list and delete over real HTTP, so the official client (and its
dynamic client) runs unchanged against it. Added here, as kmock leaves them to subclasses:
server-side apply (a PATCH with ``application/apply-patch+yaml`` creates or merges), JSON
patches (``replace``), 403 for chosen kinds, a log of every call, and a hook that plays the
Deployment controller (no controller runs in an emulator).
"""

from __future__ import annotations

import asyncio
import copy
import json
import re
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import aiohttp.web
import kmock
from kmock._internal import enums

NAMESPACE_PATH = re.compile(r"^/api/v1/namespaces/([^/]+)$")
APPLY = "application/apply-patch+yaml"
JSON_PATCH = "application/json-patch+json"
VERBS = {"get", "list", "watch", "create", "patch", "update", "delete"}

#: (group, version, plural, kind, namespaced) of every resource the deploy code may touch.
CORE_RESOURCES = [
    ("", "v1", "namespaces", "Namespace", False),
    ("", "v1", "serviceaccounts", "ServiceAccount", True),
    ("", "v1", "configmaps", "ConfigMap", True),
    ("", "v1", "secrets", "Secret", True),
    ("", "v1", "persistentvolumeclaims", "PersistentVolumeClaim", True),
    ("", "v1", "services", "Service", True),
    ("", "v1", "pods", "Pod", True),
    ("", "v1", "events", "Event", True),
    ("apps", "v1", "deployments", "Deployment", True),
    ("apps", "v1", "replicasets", "ReplicaSet", True),
    ("networking.k8s.io", "v1", "networkpolicies", "NetworkPolicy", True),
    ("policy", "v1", "poddisruptionbudgets", "PodDisruptionBudget", True),
    ("autoscaling", "v2", "horizontalpodautoscalers", "HorizontalPodAutoscaler", True),
    ("batch", "v1", "jobs", "Job", True),
]
KUEUE_RESOURCES = [
    ("kueue.x-k8s.io", "v1beta2", "resourceflavors", "ResourceFlavor", False),
    ("kueue.x-k8s.io", "v1beta2", "clusterqueues", "ClusterQueue", False),
    ("kueue.x-k8s.io", "v1beta2", "localqueues", "LocalQueue", True),
    ("kueue.x-k8s.io", "v1beta2", "workloads", "Workload", True),
]
PLURALS = {
    kind: (group, version, plural)
    for group, version, plural, kind, _ in CORE_RESOURCES + KUEUE_RESOURCES
}


@dataclass(frozen=True)
class Call:
    method: str
    path: str
    params: dict[str, str]
    content_type: str


def resource(kind: str) -> Any:
    group, version, plural = PLURALS[kind]
    return kmock.resource(group, version, plural)


class ApiEmulator(kmock.KubernetesEmulator):
    """See the module docstring; ``calls``, ``forbidden`` and ``on_apply`` are for tests."""

    def setup(self, *, kueue: bool, kueue_api: str = "v1beta2") -> None:
        """``kueue_api``: the version Kueue's kinds are served in (v1beta1: Kueue < v0.15)."""
        self.calls: list[Call] = []
        self.forbidden: set[str] = set()  # plurals whose writes answer 403
        self.on_apply: Callable[[ApiEmulator, dict[str, Any]], None] | None = None
        kueue_kinds = [(g, kueue_api, p, k, n) for g, _, p, k, n in KUEUE_RESOURCES]
        for group, version, plural, kind, namespaced in CORE_RESOURCES + (
            kueue_kinds if kueue else []
        ):
            self.resources[kmock.resource(group, version, plural)] = kmock.ResourceInfo(
                kind=kind, namespaced=namespaced, verbs=VERBS
            )

    def applied(self) -> list[Call]:
        return [c for c in self.calls if c.method == "PATCH" and c.content_type == APPLY]

    async def _handle(self, request: Any) -> aiohttp.web.StreamResponse:
        content_type = request.headers.get("Content-Type", "")
        self.calls.append(
            Call(str(request.method.value), request.url.path, dict(request.params), content_type)
        )
        namespace_object = NAMESPACE_PATH.match(request.url.path)
        if namespace_object and request.method == enums.method.PATCH:
            # kmock reads /api/v1/namespaces/NAME as a namespace prefix, not as an object.
            key = (resource("Namespace"), None, namespace_object.group(1))
        elif request.action == enums.action.LIST and getattr(request.resource, "plural", None):
            return aiohttp.web.json_response(self._list(request))
        elif request.resource is None or request.action != enums.action.UPDATE:
            return await super()._handle(request)
        elif request.resource.plural in self.forbidden:
            return aiohttp.web.json_response(
                {
                    "kind": "Status",
                    "apiVersion": "v1",
                    "status": "Failure",
                    "code": 403,
                    "reason": "Forbidden",
                    "message": f"{request.resource.plural} is forbidden",
                },
                status=403,
            )
        else:
            key = (request.resource, request.namespace, request.name)
        if content_type.startswith(APPLY):
            body = json.loads(request.body)
            if key not in self.objects or self.objects[key].deleted:
                self.objects[key] = _with_generation(body, 1)
            else:
                generation = self.objects[key].raw.get("metadata", {}).get("generation", 1)
                merged = {**self.objects[key].raw, **body}
                self.objects[key] = _with_generation(merged, generation + 1)
            if body.get("kind") == "Deployment" and self.on_apply:
                self.on_apply(self, self.objects[key].raw)
            return aiohttp.web.json_response(self.objects[key].raw)
        if content_type.startswith(JSON_PATCH):
            raw = copy.deepcopy(self.objects[key].raw)
            for operation in json.loads(request.body):
                assert operation["op"] == "replace", operation
                *parents, last = operation["path"].lstrip("/").split("/")
                target = raw
                for part in parents:
                    target = target[part]
                target[last] = operation["value"]
            generation = raw.get("metadata", {}).get("generation", 1)
            self.objects[key] = _with_generation(raw, generation + 1)
            return aiohttp.web.json_response(self.objects[key].raw)
        return await super()._handle(request)

    def _list(self, request: Any) -> dict[str, Any]:
        """A list with its kind (kmock omits it) and ``labelSelector`` applied (k=v,...)."""
        wanted = dict(
            pair.split("=", 1)
            for pair in request.params.get("labelSelector", "").split(",")
            if pair
        )
        items = []
        for (res, namespace, _), obj in self.objects.items():
            if res != request.resource or obj.deleted:
                continue
            if request.namespace is not None and namespace != request.namespace:
                continue
            labels = obj.raw.get("metadata", {}).get("labels") or {}
            if all(labels.get(k) == v for k, v in wanted.items()):
                items.append(obj.raw)
        kind = self.resources[request.resource].kind
        return {"kind": f"{kind}List", "apiVersion": "v1", "metadata": {}, "items": items}

    def store(self, kind: str, obj: dict[str, Any]) -> None:
        """Store an object as a controller would (ReplicaSets, Pods, Events, status)."""
        meta = obj["metadata"]
        self.objects[resource(kind), meta.get("namespace"), meta["name"]] = obj

    def stored(self, kind: str, namespace: str | None, name: str) -> dict[str, Any]:
        return dict(self.objects[resource(kind), namespace, name].raw)


def _with_generation(obj: dict[str, Any], generation: int) -> dict[str, Any]:
    obj = copy.deepcopy(obj)
    obj.setdefault("metadata", {})["generation"] = generation
    return obj


@contextmanager
def running_emulator(
    *, kueue: bool = False, port: int | None = None, kueue_api: str = "v1beta2"
) -> Iterator[tuple[ApiEmulator, str]]:
    """Serve an ApiEmulator on 127.0.0.1 (``port``, or a free one) from a background event
    loop; yield it and its URL."""
    loop = asyncio.new_event_loop()
    started = threading.Event()
    state: dict[str, Any] = {}

    async def serve() -> None:
        stop = asyncio.Event()
        async with ApiEmulator() as emulator, kmock.Server(emulator, port=port) as server:
            emulator.setup(kueue=kueue, kueue_api=kueue_api)
            state.update(emulator=emulator, url=str(server.url).rstrip("/"), stop=stop)
            started.set()
            await stop.wait()

    thread = threading.Thread(target=loop.run_until_complete, args=(serve(),), daemon=True)
    thread.start()
    if not started.wait(10):
        raise RuntimeError("the Kubernetes emulator did not start")
    try:
        yield state["emulator"], state["url"]
    finally:
        loop.call_soon_threadsafe(state["stop"].set)
        thread.join(10)
