"""JSON field types the request schemas share: texts, token ids, whole numbers."""

from __future__ import annotations

from functools import partial
from typing import Annotated, Any

from pydantic import BeforeValidator, Field


def _whole_number(value: Any, what: str) -> Any:
    """A whole number (JSON ``7`` or ``7.0``, as JSON Schema's ``integer``), not a boolean
    or a string."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{what} is a whole number (not a boolean or a string)")
    if isinstance(value, float) and not value.is_integer():
        raise ValueError(f"{what} is a whole number")
    return int(value)


#: Makes an integer field take ``7`` or ``7.0``, never ``true`` or ``"7"``. It goes after
#: the field's bounds: ``Annotated[int, Field(ge=1), WHOLE]`` (bounds after it would not
#: reach the schema).
WHOLE = BeforeValidator(partial(_whole_number, what="this field"))
#: A text with something besides whitespace in it. The schema says so; the routes check it
#: (engine/items.py, inference.py) so that the message names the input and the fix.
Text = Annotated[str, Field(json_schema_extra={"minLength": 1, "pattern": r"\S"})]
#: Token ids: whole numbers, at least one; the vocabulary is checked per model (openapi.py).
TokenIds = Annotated[
    list[Annotated[int, Field(ge=0), BeforeValidator(partial(_whole_number, what="a token id"))]],
    Field(min_length=1),
]
