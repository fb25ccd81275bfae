"""Render ``k8s/`` (kustomize base + overlay) in Python: no kubectl needed to deploy.

Supports the subset of kustomize the project's own files use, and says so when it meets
anything else: ``resources`` (files, or directories holding a kustomization.yaml) and
``patches`` whose file is a list of JSON 6902 operations (add, replace, remove) with a
``target`` (kind, name, optionally group and version). The template tests check that this
renderer and ``kubectl kustomize`` give the same objects for every overlay.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml

from ...errors import DeployError

Manifest = dict[str, Any]

KUSTOMIZATION = "kustomization.yaml"
_SUPPORTED_KEYS = {"apiVersion", "kind", "resources", "patches"}

#: Apply order: what others refer to first (namespace, queues, account, config), the
#: workload after, the autoscaler last. Deletion runs in reverse.
APPLY_ORDER = (
    "Namespace",
    "ResourceFlavor",
    "ClusterQueue",
    "LocalQueue",
    "ServiceAccount",
    "ConfigMap",
    "Secret",
    "PersistentVolumeClaim",
    "Service",
    "NetworkPolicy",
    "PodDisruptionBudget",
    "Deployment",
    "HorizontalPodAutoscaler",
    "Job",
)


class ManifestError(DeployError):
    """The k8s/ directory holds something this renderer cannot render."""


def _read_yaml_docs(path: Path) -> list[Any]:
    try:
        return [doc for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")) if doc]
    except FileNotFoundError:
        raise ManifestError(f"{path} does not exist") from None


def _kustomization(directory: Path) -> dict[str, Any]:
    path = directory / KUSTOMIZATION
    if not path.is_file():
        raise ManifestError(f"{directory} has no {KUSTOMIZATION}")
    docs = _read_yaml_docs(path)
    spec: dict[str, Any] = docs[0] if docs else {}
    unsupported = set(spec) - _SUPPORTED_KEYS
    if unsupported:
        raise ManifestError(
            f"{path}: {', '.join(sorted(unsupported))} is beyond the built-in renderer "
            "(resources and JSON 6902 patches); apply with "
            f"`kubectl apply --server-side -k {directory}` instead"
        )
    return spec


def build(directory: Path) -> list[Manifest]:
    """The objects of one kustomization directory, patches applied, in file order."""
    spec = _kustomization(directory)
    objects: list[Manifest] = []
    for entry in spec.get("resources", []):
        path = (directory / entry).resolve()
        if path.is_dir():
            objects.extend(build(path))
        else:
            objects.extend(_read_yaml_docs(path))
    for patch in spec.get("patches", []):
        operations = _read_yaml_docs(directory / patch["path"])
        if len(operations) != 1 or not isinstance(operations[0], list):
            raise ManifestError(
                f"{directory / patch['path']}: write patches as a list of JSON 6902 operations"
            )
        targets = [obj for obj in objects if _matches(obj, patch.get("target", {}))]
        if not targets:
            raise ManifestError(f"patch {patch['path']} matches no object: {patch.get('target')}")
        for obj in targets:
            for operation in operations[0]:
                apply_operation(obj, operation)
    return objects


def _matches(obj: Manifest, target: dict[str, str]) -> bool:
    group, _, version = obj.get("apiVersion", "").rpartition("/")
    actual = {
        "kind": obj.get("kind"),
        "name": obj.get("metadata", {}).get("name"),
        "group": group,
        "version": version,
        "namespace": obj.get("metadata", {}).get("namespace"),
    }
    return all(actual.get(key) == value for key, value in target.items())


def _pointer(path: str) -> list[str]:
    return [part.replace("~1", "/").replace("~0", "~") for part in path.lstrip("/").split("/")]


def apply_operation(obj: Manifest, operation: dict[str, Any]) -> None:
    """Apply one JSON 6902 ``add``, ``replace`` or ``remove`` operation in place."""
    op, parts = operation["op"], _pointer(operation["path"])
    parent: Any = obj
    for part in parts[:-1]:
        parent = parent[int(part)] if isinstance(parent, list) else parent[part]
    last = parts[-1]
    value = copy.deepcopy(operation.get("value"))
    if isinstance(parent, list):
        index = len(parent) if last == "-" else int(last)
        if op == "add":
            parent.insert(index, value)
        elif op == "replace":
            parent[index] = value
        elif op == "remove":
            del parent[index]
        else:
            raise ManifestError(f"unsupported JSON patch operation {op!r}")
    elif op in {"add", "replace"}:
        if op == "replace" and last not in parent:
            raise ManifestError(f"cannot replace {operation['path']}: it does not exist")
        parent[last] = value
    elif op == "remove":
        del parent[last]
    else:
        raise ManifestError(f"unsupported JSON patch operation {op!r}")


def _order(obj: Manifest) -> int:
    kind = obj.get("kind", "")
    return APPLY_ORDER.index(kind) if kind in APPLY_ORDER else len(APPLY_ORDER)


def render(k8s_dir: Path, overlay: str, image: str | None = None) -> list[Manifest]:
    """The overlay's objects in apply order; ``image`` replaces the server's image."""
    directory = k8s_dir / "overlays" / overlay
    if not directory.is_dir():
        known = sorted(p.name for p in (k8s_dir / "overlays").glob("*") if p.is_dir())
        raise ManifestError(f"no overlay {overlay!r} in {k8s_dir}/overlays (have: {known})")
    objects = sorted(build(directory), key=_order)
    if image:
        for obj in objects:
            if obj.get("kind") == "Deployment":
                for container in obj["spec"]["template"]["spec"]["containers"]:
                    container["image"] = image
    return objects


def workload_images(objects: list[Manifest]) -> list[str]:
    """The images of every Deployment's and Job's containers."""
    return [
        container["image"]
        for obj in objects
        if obj.get("kind") in ("Deployment", "Job")
        for container in obj["spec"]["template"]["spec"]["containers"]
    ]


def has_registry(image: str) -> bool:
    """Whether a node could pull ``image`` from somewhere we pushed it: a bare ``name:tag``
    resolves to Docker Hub's library/, which holds no image of this project."""
    return "/" in image.split("@", 1)[0]


def require_registry(objects: list[Manifest]) -> None:
    """Refuse images no node can pull (ImagePullBackOff after the apply, otherwise)."""
    for image in workload_images(objects):
        if not has_registry(image):
            raise ManifestError(
                f"the image {image!r} names no registry, so no node can pull it: push it "
                "(`images push`) and deploy with --image REGISTRY/NAME@sha256:..., or set "
                "image_registry (`copier update --data image_registry=ghcr.io/you`)"
            )


def to_yaml(objects: list[Manifest]) -> str:
    return str(yaml.safe_dump_all(objects, sort_keys=False))


def key(obj: Manifest) -> str:
    """``Kind/namespace/name`` (``Kind/name`` for cluster-scoped objects), for messages."""
    meta = obj.get("metadata", {})
    parts = [obj.get("kind", "?"), meta.get("namespace"), meta.get("name", "?")]
    return "/".join(part for part in parts if part)
