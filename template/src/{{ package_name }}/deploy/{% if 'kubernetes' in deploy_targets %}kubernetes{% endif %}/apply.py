"""Deploy to Kubernetes with the official client: server-side apply, wait, roll back.

``connect`` loads credentials (the only place that does); ``deploy`` applies the rendered
objects (``manifests.render``) in dependency order with server-side apply under one field
manager, waits for the Deployment's rollout and, when it fails, shows the failing pods'
events and rolls back to the previous revision. ``destroy`` deletes what ``deploy`` applied.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ...errors import DeployError
from .kueue import KUEUE_GROUP, kueue_problem
from .manifests import Manifest, key
from .rollout import RolloutResult, pod_problems, rollback, wait_for_rollout

#: The field manager of every object this project applies (server-side apply ownership).
FIELD_MANAGER = __name__.split(".")[0].replace("_", "-")
#: Cluster-scoped or shared objects ``destroy`` leaves in place.
KEPT_ON_DESTROY = ("Namespace", "ResourceFlavor")

Say = Callable[[str], None]


@dataclass
class Cluster:
    """A connection: the dynamic client (generic apply) and its ApiClient."""

    dynamic: Any
    host: str


def dynamic_client(api: Any) -> Any:
    """The dynamic client, with the API discovery read from the cluster now.

    The library's default caches discovery in a file per API URL in the temp directory
    for 10 minutes: another cluster that had the same URL (a local one recreated, a port
    reused) or the same cluster before Kueue was installed or removed would answer. Here
    the cache file lies in a directory that no longer exists: nothing is read, and the
    library ignores failing to write it.
    """
    from kubernetes import dynamic

    with tempfile.TemporaryDirectory(prefix="k8s-discovery-") as gone:
        cache_file = os.path.join(gone, "discovery.json")
    return dynamic.DynamicClient(api, cache_file=cache_file)


def connect(context: str | None = None, config_file: str | None = None) -> Cluster:
    """Load credentials (kubeconfig, else in-cluster) and reach the API server.

    ``config_file`` defaults to $KUBECONFIG, then ~/.kube/config (the client's own rules).
    """
    import urllib3
    from kubernetes import client, config

    try:
        config.load_kube_config(config_file=config_file, context=context)
    except (config.ConfigException, FileNotFoundError) as exc:
        try:
            config.load_incluster_config()
        except config.ConfigException:
            raise DeployError(
                f"no Kubernetes credentials: {exc}. Point KUBECONFIG at a kubeconfig file "
                "(or create ~/.kube/config, e.g. with your cloud's `get-credentials`), "
                "or pass --context"
            ) from None
    api = client.ApiClient()
    host = api.configuration.host
    try:
        return Cluster(dynamic=dynamic_client(api), host=host)
    except urllib3.exceptions.HTTPError as exc:
        raise DeployError(
            f"cannot reach the Kubernetes API at {host} ({type(exc).__name__}). Check the "
            "cluster is running, your network/VPN, and the kubeconfig's current context"
        ) from None
    except client.ApiException as exc:
        raise _api_error(exc, "discover the cluster's APIs", host) from None


def _api_error(exc: Any, action: str, what: str) -> DeployError:
    status = getattr(exc, "status", None)
    if status == 401:
        return DeployError(
            f"the cluster rejected your credentials (401) to {action} {what}: "
            "refresh them (e.g. your cloud's `get-credentials`)"
        )
    if status == 403:
        return DeployError(
            f"forbidden (403): your identity may not {action} {what}. Ask an admin for the "
            "RBAC in docs/kubernetes.md (get/list/patch/delete on these resources)"
        )
    body = getattr(exc, "body", "") or ""
    return DeployError(f"could not {action} {what}: {status} {getattr(exc, 'reason', '')} {body}")


def resource_for(cluster: Cluster, obj: Manifest) -> Any:
    """The API resource serving this object's kind; a clear error when the cluster lacks it."""
    from kubernetes.dynamic.exceptions import ResourceNotFoundError

    api_version, kind = obj["apiVersion"], obj["kind"]
    try:
        return cluster.dynamic.resources.get(api_version=api_version, kind=kind)
    except ResourceNotFoundError:
        if api_version.startswith(KUEUE_GROUP + "/"):
            raise DeployError(kueue_problem(cluster, kind, api_version)) from None
        raise DeployError(f"the cluster does not serve {kind} in {api_version}") from None


def referenced(obj: Manifest) -> list[tuple[str, str]]:
    """(kind, name) of the Secrets and claims a workload needs to exist before it starts."""
    if obj.get("kind") not in {"Deployment", "Job"}:
        return []
    pod = obj["spec"]["template"]["spec"]
    needs = [
        ("PersistentVolumeClaim", volume["persistentVolumeClaim"]["claimName"])
        for volume in pod.get("volumes", [])
        if "persistentVolumeClaim" in volume
    ]
    for container in pod.get("containers", []):
        for env in container.get("env", []):
            ref = env.get("valueFrom", {}).get("secretKeyRef")
            if ref:
                needs.append(("Secret", ref["name"]))
    return needs


def check_references(cluster: Cluster, obj: Manifest) -> None:
    """Fail before the rollout when a Secret or claim the pods need is missing."""
    from kubernetes.dynamic.exceptions import NotFoundError

    namespace = obj["metadata"]["namespace"]
    for kind, name in referenced(obj):
        resource = cluster.dynamic.resources.get(api_version="v1", kind=kind)
        try:
            resource.get(name=name, namespace=namespace)
        except NotFoundError:
            how = (
                f"kubectl -n {namespace} create secret generic {name} --from-literal=token=..."
                if kind == "Secret"
                else "create it holding the model's weights (docs/kubernetes.md)"
            )
            raise DeployError(f"{kind} {namespace}/{name} does not exist: {how}") from None


def apply(cluster: Cluster, obj: Manifest, *, server_dry_run: bool = False) -> Any:
    """Server-side apply one object under FIELD_MANAGER, taking over conflicting fields.

    ``server_dry_run`` has the API server validate and admit it without storing it.
    """
    from kubernetes.client import ApiException

    resource = resource_for(cluster, obj)
    try:
        return cluster.dynamic.server_side_apply(
            resource,
            body=obj,
            field_manager=FIELD_MANAGER,
            force_conflicts=True,
            dry_run="All" if server_dry_run else None,
        )
    except ApiException as exc:
        raise _api_error(exc, "apply", key(obj)) from None


def deploy(
    cluster: Cluster,
    objects: list[Manifest],
    *,
    wait: bool = True,
    timeout_s: float = 600.0,
    poll_s: float = 2.0,
    say: Say = print,
) -> RolloutResult | None:
    """Apply ``objects`` (in the given order) and, with ``wait``, see the rollout through.

    Returns the rollout's result (None without ``wait`` or without a Deployment). On a
    failed or timed-out rollout, prints the failing pods' events, rolls back and returns
    the failed result.
    """
    for obj in objects:  # every kind must be served before anything changes
        resource_for(cluster, obj)
    deployment: Manifest | None = None
    for obj in objects:
        if obj["kind"] == "Deployment":
            check_references(cluster, obj)
            deployment = obj
        apply(cluster, obj)
        say(f"applied {key(obj)}")
    if not wait or deployment is None:
        return None
    name, namespace = deployment["metadata"]["name"], deployment["metadata"]["namespace"]
    from kubernetes.client import ApiException

    try:
        return _see_rollout_through(
            cluster, deployment, timeout_s=timeout_s, poll_s=poll_s, say=say
        )
    except ApiException as exc:
        raise _api_error(exc, "follow the rollout of", f"Deployment/{namespace}/{name}") from None


def _see_rollout_through(
    cluster: Cluster, deployment: Manifest, *, timeout_s: float, poll_s: float, say: Say
) -> RolloutResult:
    """Wait; on failure report the failing pods and roll back."""
    name, namespace = deployment["metadata"]["name"], deployment["metadata"]["namespace"]
    result = wait_for_rollout(cluster.dynamic, name, namespace, timeout_s=timeout_s, poll_s=poll_s)
    if result.ok:
        say(f"rollout of {namespace}/{name} complete: {result.message}")
        return result
    say(f"rollout of {namespace}/{name} failed: {result.message}")
    selector = deployment["spec"]["selector"]["matchLabels"]
    for line in pod_problems(cluster.dynamic, namespace, selector):
        say(line)
    revision = rollback(cluster.dynamic, name, namespace, field_manager=FIELD_MANAGER)
    if revision is None:
        say(
            "no previous revision to roll back to (first deploy): fix the cause and redeploy, "
            "or remove it with `destroy kubernetes`"
        )
    else:
        say(f"rolled back {namespace}/{name} to revision {revision}")
    return result


def destroy(cluster: Cluster, objects: list[Manifest], *, say: Say = print) -> list[str]:
    """Delete the objects ``deploy`` applied, in reverse order; returns what was deleted."""
    from kubernetes.client import ApiException

    deleted = []
    for obj in reversed(objects):
        if obj["kind"] in KEPT_ON_DESTROY:
            say(f"kept {key(obj)} (shared; delete it yourself if nothing else uses it)")
            continue
        meta = obj["metadata"]
        try:
            resource = resource_for(cluster, obj)
            resource.delete(name=meta["name"], namespace=meta.get("namespace"))
        except DeployError:
            continue  # the kind is not served (e.g. Kueue removed): nothing of it to delete
        except ApiException as exc:
            if exc.status == 404:
                say(f"{key(obj)} was already gone")
                continue
            raise _api_error(exc, "delete", key(obj)) from None
        deleted.append(key(obj))
        say(f"deleted {key(obj)}")
    return deleted
