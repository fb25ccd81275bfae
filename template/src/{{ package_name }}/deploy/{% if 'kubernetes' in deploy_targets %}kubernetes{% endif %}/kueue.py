"""Kueue on the cluster: which version serves which API, and why a kind is missing.

The project's queue objects use ``kueue.x-k8s.io/v1beta2``, which Kueue serves from v0.15 on.
An older Kueue serves only v1beta1: the message then names the installed version (read from
its controller's image tag) and the one needed, instead of "not installed".
"""

from __future__ import annotations

from typing import Any

KUEUE_GROUP = "kueue.x-k8s.io"
KUEUE_RELEASE = "v0.19.1"
#: the first Kueue serving kueue.x-k8s.io/v1beta2, the API version of k8s/base/kueue
KUEUE_MIN_VERSION = "v0.15.0"
KUEUE_NAMESPACE = "kueue-system"
KUEUE_CONTROLLER = "kueue-controller-manager"
KUEUE_INSTALL = (
    "kubectl apply --server-side -f https://github.com/kubernetes-sigs/kueue/releases/"
    f"download/{KUEUE_RELEASE}/manifests.yaml"
)


def kueue_problem(cluster: Any, kind: str, api_version: str) -> str:
    """Why Kueue's ``kind`` is missing: Kueue absent, or a Kueue too old for ``api_version``
    (v1beta2 arrived in v0.15), naming the installed version when the cluster tells it."""
    served = served_versions(cluster, KUEUE_GROUP)
    upgrade = f"Install Kueue {KUEUE_RELEASE}: `{KUEUE_INSTALL}`"
    if not served:
        return (
            f"Kueue is not installed on this cluster (no {kind} in {api_version}). {upgrade}, "
            "or generate the project with kueue=false"
        )
    installed = kueue_version(cluster)
    which = f"Kueue {installed}" if installed else "the installed Kueue"
    return (
        f"{which} serves {', '.join(f'{KUEUE_GROUP}/{v}' for v in served)} but not "
        f"{api_version}, which this project needs (Kueue {KUEUE_MIN_VERSION} or later; "
        f"v1beta2 arrived in {KUEUE_MIN_VERSION}). Upgrade: {upgrade}"
    )


def served_versions(cluster: Any, group: str) -> list[str]:
    """The versions the cluster serves of an API group (discovery), newest first."""
    try:
        groups = cluster.dynamic.request("GET", "/apis")
        for entry in getattr(groups, "groups", None) or []:
            if entry.name == group:
                return [version.version for version in entry.versions]
    except Exception:  # discovery problems: report Kueue as missing, as before
        return []
    return []


def kueue_version(cluster: Any) -> str | None:
    """The installed Kueue's version, from its controller's image tag (None when unknown)."""
    try:
        deployments = cluster.dynamic.resources.get(api_version="apps/v1", kind="Deployment")
        controller = deployments.get(name=KUEUE_CONTROLLER, namespace=KUEUE_NAMESPACE)
        image = controller.spec.template.spec.containers[0].image
    except Exception:  # not readable (RBAC) or not there: the message goes without it
        return None
    tag = str(image).rsplit("@", 1)[0].rsplit(":", 1)
    return tag[1] if len(tag) == 2 and "/" not in tag[1] else None
