"""The OpenAPI document, completed with what only the loaded model knows.

Token ids are valid when they are inside the vocabulary and at least one of them is not a
special token (ids of special tokens only decode to no text: 422, engine/items.py). Both
depend on the model, so the schema says them once it is loaded.
"""

from __future__ import annotations

from typing import Any


def _token_ids(predictor: Any) -> dict[str, Any]:
    special = sorted(int(i) for i in predictor.special_ids())
    ids: dict[str, Any] = {"type": "integer", "minimum": 0, "maximum": predictor.vocab_size() - 1}
    schema: dict[str, Any] = {"type": "array", "minItems": 1, "items": ids}
    if special:
        schema["contains"] = {"not": {"enum": special}}
        schema["description"] = f"token ids; not only special ones ({special})"
    return schema


def _is_token_ids(node: dict[str, Any]) -> bool:
    items = node.get("items")
    return (
        node.get("type") == "array" and isinstance(items, dict) and items.get("type") == "integer"
    )


def with_model_facts(schema: dict[str, Any], predictor: Any) -> dict[str, Any]:
    """``schema`` with every token-id list narrowed to this model (unchanged before load)."""
    if predictor is None or not callable(getattr(predictor, "special_ids", None)):
        return schema
    narrowed = _token_ids(predictor)

    def walk(node: Any) -> Any:
        if isinstance(node, dict):
            return narrowed if _is_token_ids(node) else {k: walk(v) for k, v in node.items()}
        if isinstance(node, list):
            return [walk(item) for item in node]
        return node

    return dict(walk(schema))
