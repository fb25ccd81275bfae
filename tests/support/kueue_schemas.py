"""JSON schemas for the Kueue objects the template renders (kueue.x-k8s.io/v1beta2).

kubernetes-validate skips custom resources, so these check the fields we use, written from
Kueue's API types (apis/kueue/v1beta2/{resourceflavor,clusterqueue,localqueue}_types.go,
Kueue v0.19): required fields, enums, list limits, name patterns and quantities. Unknown
fields are rejected (``additionalProperties: false``), as the API server's structural schema
prunes or rejects them.
"""

from __future__ import annotations

from typing import Any

API_VERSION = "kueue.x-k8s.io/v1beta2"

DNS_SUBDOMAIN = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"
# resource.Quantity: a number with an optional binary or decimal suffix.
QUANTITY = r"^[+]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][-+]?[0-9]+|[numkMGTPE]|[KMGTPE]i)?$"
LABEL_VALUE = r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$"


def _object(kind: str, spec: dict[str, Any], *, namespaced: bool) -> dict[str, Any]:
    metadata: dict[str, Any] = {
        "type": "object",
        "required": ["name", *(["namespace"] if namespaced else [])],
        "properties": {
            "name": {"type": "string", "pattern": DNS_SUBDOMAIN, "maxLength": 253},
            "labels": {"type": "object", "additionalProperties": {"type": "string"}},
            "annotations": {"type": "object", "additionalProperties": {"type": "string"}},
        },
        "additionalProperties": False,
    }
    if namespaced:
        metadata["properties"]["namespace"] = {"type": "string", "pattern": DNS_SUBDOMAIN}
    return {
        "type": "object",
        "required": ["apiVersion", "kind", "metadata", "spec"],
        "properties": {
            "apiVersion": {"const": API_VERSION},
            "kind": {"const": kind},
            "metadata": metadata,
            "spec": spec,
        },
        "additionalProperties": False,
    }


TOLERATION = {
    "type": "object",
    "properties": {
        "key": {"type": "string"},
        "operator": {"enum": ["Equal", "Exists"]},
        "value": {"type": "string"},
        "effect": {"enum": ["NoSchedule", "PreferNoSchedule", "NoExecute"]},
        "tolerationSeconds": {"type": "integer"},
    },
    "additionalProperties": False,
    # "operator must be Exists when 'key' is empty"; "a value must be empty when Exists"
    "allOf": [
        {
            "if": {"not": {"required": ["key"]}},
            "then": {"properties": {"operator": {"const": "Exists"}}, "required": ["operator"]},
        },
        {
            "if": {"properties": {"operator": {"const": "Exists"}}, "required": ["operator"]},
            "then": {"not": {"required": ["value"]}},
        },
    ],
}

RESOURCE_FLAVOR = _object(
    "ResourceFlavor",
    {
        "type": "object",
        "properties": {
            "nodeLabels": {
                "type": "object",
                "maxProperties": 8,
                "additionalProperties": {"type": "string", "pattern": LABEL_VALUE, "maxLength": 63},
            },
            "tolerations": {"type": "array", "maxItems": 8, "items": TOLERATION},
            "nodeTaints": {"type": "array", "maxItems": 8},
            "topologyName": {"type": "string", "pattern": DNS_SUBDOMAIN},
        },
        "additionalProperties": False,
    },
    namespaced=False,
)

RESOURCE_QUOTA = {
    "type": "object",
    "required": ["name", "nominalQuota"],
    "properties": {
        "name": {"type": "string", "minLength": 1},
        "nominalQuota": {"type": ["string", "integer"], "pattern": QUANTITY},
        "borrowingLimit": {"type": ["string", "integer"], "pattern": QUANTITY},
        "lendingLimit": {"type": ["string", "integer"], "pattern": QUANTITY},
    },
    "additionalProperties": False,
}

CLUSTER_QUEUE = _object(
    "ClusterQueue",
    {
        "type": "object",
        "required": ["resourceGroups", "namespaceSelector"],
        "properties": {
            "namespaceSelector": {
                "type": "object",
                "properties": {
                    "matchLabels": {"type": "object", "additionalProperties": {"type": "string"}},
                    "matchExpressions": {"type": "array"},
                },
                "additionalProperties": False,
            },
            "queueingStrategy": {"enum": ["StrictFIFO", "BestEffortFIFO"]},
            "cohortName": {"type": "string", "pattern": DNS_SUBDOMAIN},
            "stopPolicy": {"enum": ["None", "Hold", "HoldAndDrain"]},
            "resourceGroups": {
                "type": "array",
                "minItems": 1,
                "maxItems": 16,
                "items": {
                    "type": "object",
                    "required": ["coveredResources", "flavors"],
                    "properties": {
                        "coveredResources": {
                            "type": "array",
                            "minItems": 1,
                            "maxItems": 64,
                            "uniqueItems": True,
                            "items": {"type": "string"},
                        },
                        "flavors": {
                            "type": "array",
                            "minItems": 1,
                            "maxItems": 64,
                            "items": {
                                "type": "object",
                                "required": ["name", "resources"],
                                "properties": {
                                    "name": {"type": "string", "pattern": DNS_SUBDOMAIN},
                                    "resources": {
                                        "type": "array",
                                        "minItems": 1,
                                        "maxItems": 64,
                                        "items": RESOURCE_QUOTA,
                                    },
                                },
                                "additionalProperties": False,
                            },
                        },
                    },
                    "additionalProperties": False,
                },
            },
        },
        "additionalProperties": False,
    },
    namespaced=False,
)

LOCAL_QUEUE = _object(
    "LocalQueue",
    {
        "type": "object",
        "required": ["clusterQueue"],
        "properties": {
            "clusterQueue": {"type": "string", "pattern": DNS_SUBDOMAIN, "maxLength": 253},
            "stopPolicy": {"enum": ["None", "Hold", "HoldAndDrain"]},
        },
        "additionalProperties": False,
    },
    namespaced=True,
)

SCHEMAS = {
    "ResourceFlavor": RESOURCE_FLAVOR,
    "ClusterQueue": CLUSTER_QUEUE,
    "LocalQueue": LOCAL_QUEUE,
}


def cel_problems(obj: dict[str, Any]) -> list[str]:
    """The CEL rules of the Kueue CRDs that a JSON schema cannot say."""
    problems = []
    if obj["kind"] == "ClusterQueue":
        for group in obj["spec"]["resourceGroups"]:
            covered = group["coveredResources"]
            for flavor in group["flavors"]:
                names = [r["name"] for r in flavor["resources"]]
                # "flavors must have the same number of resources as the coveredResources",
                # listed in the same order.
                if names != covered:
                    problems.append(f"flavor {flavor['name']}: resources {names} != {covered}")
        if "cohortName" not in obj["spec"]:
            for group in obj["spec"]["resourceGroups"]:
                for flavor in group["flavors"]:
                    if any("borrowingLimit" in r for r in flavor["resources"]):
                        problems.append("borrowingLimit must be nil when cohort is empty")
    return problems
