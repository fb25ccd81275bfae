"""``deploy kubernetes --batch``: submit k8s/batch's Job to Kueue and wait for its admission.

The Job is created suspended with the LocalQueue's label; Kueue makes a Workload for it,
reserves quota in the ClusterQueue and unsuspends it. Until then the Workload's conditions
say why it waits (no quota, no flavor fits): that is the progress shown. ``render_batch``
reads k8s/batch (its Job, the namespace and the inputs' configMapGenerator) in Python.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from ...errors import DeployError
from ..common import Status, wait_for
from .apply import Cluster, Say, apply, resource_for
from .kueue import KUEUE_GROUP
from .manifests import Manifest, ManifestError, key

#: the Workload API version of the Kueue this project targets (as k8s/base/kueue)
WORKLOAD_API = f"{KUEUE_GROUP}/v1beta2"


@dataclass(frozen=True)
class BatchResult:
    job: str
    admitted: bool
    message: str


def render_batch(k8s_dir: Path, image: str | None = None) -> list[Manifest]:
    """The inputs' ConfigMaps, then the Job, in the kustomization's namespace."""
    directory = k8s_dir / "batch"
    path = directory / "kustomization.yaml"
    if not path.is_file():
        raise ManifestError(f"no batch Job in {directory}: the project was generated without Kueue")
    spec = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    objects: list[Manifest] = []
    for generator in spec.get("configMapGenerator", []):
        data = {
            Path(name).name: (directory / name).read_text(encoding="utf-8")
            for name in generator.get("files", [])
        }
        objects.append(
            {
                "apiVersion": "v1",
                "kind": "ConfigMap",
                "metadata": {"name": generator["name"]},
                "data": data,
            }
        )
    for entry in spec.get("resources", []):
        objects.extend(yaml.safe_load_all((directory / entry).read_text(encoding="utf-8")))
    for obj in objects:
        if spec.get("namespace"):
            obj["metadata"]["namespace"] = spec["namespace"]
        if image and obj["kind"] == "Job":
            for container in obj["spec"]["template"]["spec"]["containers"]:
                container["image"] = image
    return objects


def _workload_reason(cluster: Cluster, job: Manifest) -> str:
    """What Kueue says about the Job's Workload (its latest False/True condition)."""
    meta = job["metadata"]
    try:
        workloads = cluster.dynamic.resources.get(api_version=WORKLOAD_API, kind="Workload")
        items = workloads.get(namespace=meta["namespace"]).to_dict().get("items", [])
    except Exception:  # no Workload API or no RBAC to read it: the Job's state still shows
        return "waiting for Kueue to create its Workload"
    for item in items:
        owners = item.get("metadata", {}).get("ownerReferences") or []
        if any(o.get("kind") == "Job" and o.get("name") == meta["name"] for o in owners):
            conditions = item.get("status", {}).get("conditions") or []
            if conditions:
                last = conditions[-1]
                return f"{last.get('type')}={last.get('status')}: {last.get('message', '')}"
            return "Workload created, not yet evaluated"
    return "waiting for Kueue to create its Workload"


def submit_batch(
    cluster: Cluster,
    objects: list[Manifest],
    *,
    wait: bool = True,
    timeout_s: float = 600.0,
    poll_s: float = 2.0,
    say: Say = print,
    show_progress: bool = True,
) -> BatchResult:
    """Apply the inputs and create the Job; with ``wait``, poll until Kueue admits it."""
    from kubernetes.dynamic.exceptions import NotFoundError

    job = next(obj for obj in objects if obj["kind"] == "Job")
    meta = job["metadata"]
    jobs = resource_for(cluster, job)
    try:
        jobs.get(name=meta["name"], namespace=meta["namespace"])
        raise DeployError(
            f"{key(job)} exists already (a Job runs once): delete it with `kubectl delete job "
            f"-n {meta['namespace']} {meta['name']}`, then submit again"
        )
    except NotFoundError:
        pass
    for obj in objects:
        apply(cluster, obj)
        say(f"applied {key(obj)}")
    if not wait:
        return BatchResult(key(job), False, "submitted; not waiting for admission")

    def describe() -> Status:
        current = jobs.get(name=meta["name"], namespace=meta["namespace"]).to_dict()
        if not current.get("spec", {}).get("suspend", False):
            return Status("admitted", done=True, reason="Kueue admitted the Job: its pods start")
        return Status(_workload_reason(cluster, job))

    status = wait_for(
        describe,
        what=f"admission of {key(job)}",
        timeout_s=timeout_s,
        poll_s=poll_s,
        show_progress=show_progress,
    )
    return BatchResult(key(job), status.done and not status.failed, status.reason or status.state)


def batch_logs_hint(job: Manifest | Any) -> str:
    meta = job["metadata"]
    return f"kubectl logs -n {meta['namespace']} job/{meta['name']} (one JSON line per input)"
