"""Follow a Deployment's rollout, explain a failed one, and roll back (like kubectl).

``rollout_state`` is pure (the same rules as ``kubectl rollout status``); the other
functions take the dynamic client of a connected cluster.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

REVISION = "deployment.kubernetes.io/revision"


@dataclass(frozen=True)
class RolloutResult:
    ok: bool
    message: str
    timed_out: bool = False


@dataclass(frozen=True)
class RolloutState:
    done: bool
    failed: bool
    message: str
    ready: int
    desired: int


def rollout_state(deployment: dict[str, Any]) -> RolloutState:
    """Where a Deployment's rollout stands, from its spec and status alone."""
    meta, spec, status = deployment["metadata"], deployment["spec"], deployment.get("status") or {}
    desired = int(spec.get("replicas", 1))
    updated = int(status.get("updatedReplicas", 0))
    available = int(status.get("availableReplicas", 0))
    total = int(status.get("replicas", 0))
    ready = min(updated, available)

    def state(message: str, *, done: bool = False, failed: bool = False) -> RolloutState:
        return RolloutState(done, failed, message, ready, desired)

    if int(status.get("observedGeneration", 0)) < int(meta.get("generation", 1)):
        return state("waiting for the controller to see the new spec")
    for condition in status.get("conditions") or []:
        if condition.get("type") == "Progressing" and condition.get("reason") == (
            "ProgressDeadlineExceeded"
        ):
            return state(
                f"no progress before the deadline: {condition.get('message', '')}", failed=True
            )
    if updated < desired:
        return state(f"{updated} of {desired} replicas updated")
    if total > updated:
        return state(f"{total - updated} old replicas terminating")
    if available < updated:
        return state(f"{available} of {updated} updated replicas available")
    return state(f"{available} of {desired} replicas ready", done=True)


def wait_for_rollout(
    dynamic: Any, name: str, namespace: str, *, timeout_s: float, poll_s: float = 2.0
) -> RolloutResult:
    """Poll the Deployment until its rollout completes, fails or ``timeout_s`` passes."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    api = dynamic.resources.get(api_version="apps/v1", kind="Deployment")
    deadline = time.monotonic() + timeout_s
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.fields[note]}"),
        TimeElapsedColumn(),
    )
    with Progress(*columns, transient=True) as progress:
        task = progress.add_task(f"rollout {namespace}/{name}", total=None, note="")
        while True:
            current = api.get(name=name, namespace=namespace).to_dict()
            state = rollout_state(current)
            progress.update(task, total=state.desired, completed=state.ready, note=state.message)
            if state.done:
                return RolloutResult(True, state.message)
            if state.failed:
                return RolloutResult(False, state.message)
            if time.monotonic() >= deadline:
                return RolloutResult(
                    False, f"timed out after {timeout_s:g} s: {state.message}", timed_out=True
                )
            time.sleep(poll_s)


def _waiting_reasons(pod: dict[str, Any]) -> list[str]:
    reasons = []
    for status in (pod.get("status") or {}).get("containerStatuses") or []:
        state = status.get("state") or {}
        for phase in ("waiting", "terminated"):
            if state.get(phase):
                detail = state[phase]
                reasons.append(
                    f"{status['name']}: {detail.get('reason', phase)} "
                    f"{detail.get('message', '')}".rstrip()
                )
    return reasons


def _is_ready(pod: dict[str, Any]) -> bool:
    conditions = (pod.get("status") or {}).get("conditions") or []
    return any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions)


def pod_problems(dynamic: Any, namespace: str, match_labels: dict[str, str]) -> list[str]:
    """Lines describing each pod of the workload that is not ready, with its events."""
    pods = dynamic.resources.get(api_version="v1", kind="Pod")
    events = dynamic.resources.get(api_version="v1", kind="Event")
    selector = ",".join(f"{k}={v}" for k, v in match_labels.items())
    lines = []
    for pod in pods.get(namespace=namespace, label_selector=selector).to_dict()["items"]:
        if _is_ready(pod):
            continue
        name = pod["metadata"]["name"]
        phase = (pod.get("status") or {}).get("phase", "Unknown")
        lines.append(f"pod {name} ({phase}): {'; '.join(_waiting_reasons(pod)) or 'not ready'}")
        found = events.get(namespace=namespace, field_selector=f"involvedObject.name={name}")
        for event in found.to_dict()["items"]:
            if event.get("involvedObject", {}).get("name") != name:
                continue
            lines.append(
                f"  {event.get('type', '')} {event.get('reason', '')}: {event.get('message', '')}"
            )
    return lines or ["no failing pods found (see `kubectl describe deployment`)"]


def previous_template(
    replica_sets: list[dict[str, Any]], deployment: dict[str, Any]
) -> tuple[int, dict[str, Any]] | None:
    """The newest revision older than the Deployment's current one, and its pod template."""
    uid = deployment["metadata"].get("uid")
    current = int(deployment["metadata"].get("annotations", {}).get(REVISION, 0))
    older = []
    for rs in replica_sets:
        owners = rs["metadata"].get("ownerReferences") or []
        if uid and not any(o.get("uid") == uid for o in owners):
            continue
        revision = int(rs["metadata"].get("annotations", {}).get(REVISION, 0))
        if 0 < revision < current:
            older.append((revision, rs["spec"]["template"]))
    if not older:
        return None
    revision, template = max(older, key=lambda item: item[0])
    template = {**template, "metadata": dict(template.get("metadata") or {})}
    labels = dict(template["metadata"].get("labels") or {})
    labels.pop("pod-template-hash", None)
    template["metadata"]["labels"] = labels
    return revision, template


def rollback(dynamic: Any, name: str, namespace: str, *, field_manager: str) -> int | None:
    """Put the previous revision's pod template back (``kubectl rollout undo``).

    Returns that revision, or None when there is none (a first deploy).
    """
    deployments = dynamic.resources.get(api_version="apps/v1", kind="Deployment")
    replica_sets = dynamic.resources.get(api_version="apps/v1", kind="ReplicaSet")
    deployment = deployments.get(name=name, namespace=namespace).to_dict()
    selector = ",".join(
        f"{k}={v}" for k, v in deployment["spec"]["selector"]["matchLabels"].items()
    )
    found = replica_sets.get(namespace=namespace, label_selector=selector).to_dict()["items"]
    previous = previous_template(found, deployment)
    if previous is None:
        return None
    revision, template = previous
    patch = [{"op": "replace", "path": "/spec/template", "value": template}]
    deployments.patch(
        body=patch,
        name=name,
        namespace=namespace,
        content_type="application/json-patch+json",
        field_manager=f"{field_manager}-rollback",
    )
    return revision
