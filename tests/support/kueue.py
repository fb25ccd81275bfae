"""Kueue's published CRDs as checks for the Kueue objects the template renders.

kubernetes-validate skips custom resources, so the tests check ResourceFlavor, ClusterQueue
and LocalQueue (``kueue.x-k8s.io/v1beta2``) here, against the schemas vendored from a Kueue
release in ``kueue_crds/`` (see its README; ``scripts/refresh_kueue_crds.py`` refreshes
them). What the API server does on create, in order:

1. defaulting: ``with_defaults`` fills the schema's ``default`` values;
2. the structural schema: ``SCHEMAS[kind]`` (``validate`` runs it), the CRD's
   ``openAPIV3Schema`` turned into a JSON schema for a whole object: ``apiVersion`` and
   ``kind`` constants, our ``metadata`` (a DNS-subdomain ``name``, plus a DNS-label
   ``namespace`` for LocalQueue), the CRD's ``spec``, no ``status``. Every object schema with
   ``properties`` and no ``x-kubernetes-preserve-unknown-fields`` rejects other fields (the
   API server's strict field validation), ``x-kubernetes-list-type: set`` lists must be
   unique, and ``map`` lists unique by their ``x-kubernetes-list-map-keys``;
3. the CRD's CEL rules (``x-kubernetes-validations``): ``cel_problems`` evaluates every rule
   on the values present, with cel-python. Transition rules (those reading ``oldSelf``) run
   only when an old object is given, as the API server runs them only on update.

Kueue's validating webhook adds checks that are code, not CRD data; ``webhook_problems``
holds the one our objects depend on.
"""

from __future__ import annotations

import copy
import functools
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import celpy
import jsonschema
from celpy import celtypes

GROUP = "kueue.x-k8s.io"
VERSION = "v1beta2"
API_VERSION = f"{GROUP}/{VERSION}"
KINDS = ("ResourceFlavor", "ClusterQueue", "LocalQueue")
CRD_DIR = Path(__file__).resolve().parent / "kueue_crds"

#: What Kubernetes requires of a custom resource's name (DNS-1123 subdomain).
DNS_SUBDOMAIN = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"
#: And of a namespace (DNS-1123 label).
DNS_LABEL = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"
STRING_MAP = {"type": "object", "additionalProperties": {"type": "string"}}


@functools.cache
def vendored() -> dict[str, dict[str, Any]]:
    """The vendored files (see kueue_crds/README.md), by kind."""
    found = {}
    for path in sorted(CRD_DIR.glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        found[data["kind"]] = data
    missing = set(KINDS) - found.keys()
    assert not missing, f"{CRD_DIR}: no vendored CRD for {sorted(missing)}"
    return found


def crd_schema(kind: str) -> dict[str, Any]:
    """The served v1beta2 ``openAPIV3Schema`` of ``kind``, as Kueue publishes it."""
    schema: dict[str, Any] = vendored()[kind]["openAPIV3Schema"]
    return schema


# --- the structural schema as a JSON schema ----------------------------------------------


def structural(node: Any) -> Any:
    """An OpenAPI v3 (structural) schema as a JSON schema that rejects unknown fields."""
    if isinstance(node, list):
        return [structural(item) for item in node]
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key in ("properties", "patternProperties"):
            out[key] = {name: structural(sub) for name, sub in value.items()}
        elif key in ("items", "additionalProperties", "not", "anyOf", "allOf", "oneOf"):
            out[key] = structural(value)
        else:  # leaf keywords, descriptions, defaults, x-kubernetes-* markers
            out[key] = value
    if (
        "properties" in node
        and "additionalProperties" not in node
        and not node.get("x-kubernetes-preserve-unknown-fields")
    ):
        out["additionalProperties"] = False
    if node.get("x-kubernetes-list-type") == "set":
        out["uniqueItems"] = True
    if node.get("nullable") and isinstance(node.get("type"), str):
        out["type"] = [node["type"], "null"]
    return out


def _metadata(namespaced: bool) -> dict[str, Any]:
    """The ObjectMeta fields a rendered manifest may carry."""
    properties: dict[str, Any] = {
        "name": {"type": "string", "minLength": 1, "maxLength": 253, "pattern": DNS_SUBDOMAIN},
        "labels": STRING_MAP,
        "annotations": STRING_MAP,
    }
    if namespaced:
        properties["namespace"] = {"type": "string", "maxLength": 63, "pattern": DNS_LABEL}
    return {
        "type": "object",
        "required": ["name", *(["namespace"] if namespaced else [])],
        "properties": properties,
        "additionalProperties": False,
    }


def object_schema(kind: str) -> dict[str, Any]:
    """A JSON schema for a whole ``kind`` object, from the vendored CRD."""
    crd = vendored()[kind]
    schema = structural(crd_schema(kind))
    properties = dict(schema["properties"])
    properties.pop("status", None)  # written by Kueue's controllers, never by a manifest
    properties["apiVersion"] = {"const": f"{crd['group']}/{crd['version']}"}
    properties["kind"] = {"const": kind}
    properties["metadata"] = _metadata(crd["scope"] == "Namespaced")
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        **schema,
        "required": ["apiVersion", "kind", "metadata", "spec"],
        "properties": properties,
        "additionalProperties": False,
    }


def _list_map_keys(
    validator: Any, keys: list[str], instance: Any, schema: dict[str, Any]
) -> Iterator[jsonschema.ValidationError]:
    """``x-kubernetes-list-type: map``: no two items share their key fields."""
    if schema.get("x-kubernetes-list-type") != "map" or not isinstance(instance, list):
        return
    seen: dict[str, int] = {}
    for index, item in enumerate(instance):
        if not isinstance(item, dict):
            continue
        key = json.dumps([item.get(name) for name in keys])
        if key in seen:
            yield jsonschema.ValidationError(
                f"items {seen[key]} and {index} have the same {'/'.join(keys)} {key}"
            )
        seen[key] = index


Validator = jsonschema.validators.extend(
    jsonschema.Draft202012Validator, {"x-kubernetes-list-map-keys": _list_map_keys}
)
SCHEMAS = {kind: object_schema(kind) for kind in KINDS}


def validate(obj: dict[str, Any]) -> None:
    """Raise ``jsonschema.ValidationError`` where the API server would refuse ``obj``."""
    if obj.get("kind") not in SCHEMAS:
        raise jsonschema.ValidationError(f"kind {obj.get('kind')!r} is none of {KINDS}")
    Validator(SCHEMAS[obj["kind"]]).validate(with_defaults(obj))


# --- defaulting ----------------------------------------------------------------------------


def _default(schema: dict[str, Any], value: Any) -> Any:
    if isinstance(value, dict) and "properties" in schema:
        value = dict(value)
        for name, sub in schema["properties"].items():
            if name not in value and "default" in sub:
                value[name] = copy.deepcopy(sub["default"])
            if name in value:
                value[name] = _default(sub, value[name])
    elif isinstance(value, dict) and isinstance(schema.get("additionalProperties"), dict):
        value = {k: _default(schema["additionalProperties"], v) for k, v in value.items()}
    elif isinstance(value, list) and "items" in schema:
        value = [_default(schema["items"], item) for item in value]
    return value


def with_defaults(obj: dict[str, Any]) -> dict[str, Any]:
    """``obj`` with the CRD's defaults filled in, as the API server stores it."""
    if obj.get("kind") not in KINDS:
        return obj
    defaulted: dict[str, Any] = _default(crd_schema(obj["kind"]), obj)
    return defaulted


# --- CEL -----------------------------------------------------------------------------------

OLD_SELF = re.compile(r"\boldSelf\b")


def cel_rules(kind: str) -> list[tuple[str, dict[str, Any]]]:
    """Every ``x-kubernetes-validations`` rule of ``kind``'s CRD, with its schema path."""
    found: list[tuple[str, dict[str, Any]]] = []

    def walk(node: dict[str, Any], path: str) -> None:
        found.extend((path or ".", rule) for rule in node.get("x-kubernetes-validations", []))
        for name, sub in node.get("properties", {}).items():
            walk(sub, f"{path}.{name}")
        if isinstance(node.get("items"), dict):
            walk(node["items"], f"{path}[*]")
        if isinstance(node.get("additionalProperties"), dict):
            walk(node["additionalProperties"], f"{path}[*]")

    walk(crd_schema(kind), "")
    return found


@functools.cache
def _program(rule: str) -> Any:
    env = celpy.Environment()
    return env.program(env.compile(rule))


def _correlate(schema: dict[str, Any], items: list[Any], old: Any) -> list[Any]:
    """The old item of each new one, for ``map`` lists (others have none, as in Kubernetes)."""
    keys = schema.get("x-kubernetes-list-map-keys")
    if schema.get("x-kubernetes-list-type") != "map" or not keys or not isinstance(old, list):
        return [None] * len(items)
    by_key = {json.dumps([o.get(k) for k in keys]): o for o in old if isinstance(o, dict)}
    return [
        by_key.get(json.dumps([i.get(k) for k in keys])) if isinstance(i, dict) else None
        for i in items
    ]


def _evaluate(
    schema: dict[str, Any], value: Any, old: Any, path: str
) -> Iterator[tuple[str, str, str | None]]:
    """(path, rule, problem or None) for every rule that applies to ``value``."""
    for rule in schema.get("x-kubernetes-validations", []):
        text = rule["rule"]
        if OLD_SELF.search(text) and old is None:
            continue  # a transition rule: only on update, and only where an old value exists
        activation = {"self": celpy.json_to_cel(value)}
        if old is not None:
            activation["oldSelf"] = celpy.json_to_cel(old)
        try:
            result = _program(text).evaluate(activation)
        except Exception as error:  # noqa: BLE001 - the API server rejects on any error too
            result = error
        problem = None
        if not isinstance(result, celtypes.BoolType) or not result:
            reason = rule.get("message") or f"failed rule: {text}"
            if not isinstance(result, celtypes.BoolType):
                reason += f" (evaluation: {result!r})"
            problem = f"{path or '.'}: {reason}"
        yield path or ".", text, problem
    if isinstance(value, dict) and "properties" in schema:
        old_map = old if isinstance(old, dict) else {}
        for name, sub in schema["properties"].items():
            if name in value:
                yield from _evaluate(sub, value[name], old_map.get(name), f"{path}.{name}")
    elif isinstance(value, dict) and isinstance(schema.get("additionalProperties"), dict):
        old_map = old if isinstance(old, dict) else {}
        for name, item in value.items():
            sub = schema["additionalProperties"]
            yield from _evaluate(sub, item, old_map.get(name), f"{path}[{name}]")
    elif isinstance(value, list) and isinstance(schema.get("items"), dict):
        for index, (item, old_item) in enumerate(
            zip(value, _correlate(schema, value, old), strict=True)
        ):
            yield from _evaluate(schema["items"], item, old_item, f"{path}[{index}]")


def cel_results(
    obj: dict[str, Any], old: dict[str, Any] | None = None
) -> list[tuple[str, str, str | None]]:
    """Each CEL rule evaluated on ``obj`` (defaulted): (path, rule, problem or None)."""
    kind = obj["kind"]
    new = with_defaults(obj)
    previous = with_defaults(old) if old is not None else None
    return list(_evaluate(crd_schema(kind), new, previous, ""))


def cel_problems(obj: dict[str, Any], old: dict[str, Any] | None = None) -> list[str]:
    """The messages of the CRD's CEL rules that ``obj`` (an update of ``old``) breaks."""
    return [problem for _, _, problem in cel_results(obj, old) if problem]


# --- the validating webhook ----------------------------------------------------------------


def webhook_problems(obj: dict[str, Any]) -> list[str]:
    """What Kueue's ClusterQueue webhook refuses beyond the CRD, for the fields we render.

    pkg/webhooks/clusterqueue_webhook.go (validateFlavorQuotas): each flavor lists its
    resources in the order of the group's ``coveredResources`` (the CRD's CEL rule only
    compares their number).
    """
    problems = []
    if obj.get("kind") == "ClusterQueue":
        for group in obj["spec"].get("resourceGroups", []):
            covered = group["coveredResources"]
            for flavor in group["flavors"]:
                names = [r["name"] for r in flavor["resources"]]
                if names != covered:
                    problems.append(f"flavor {flavor['name']}: resources {names} != {covered}")
    return problems
