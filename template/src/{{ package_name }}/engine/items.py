"""Each input checked on its own, before it is queued: a bad one fails only its request.

A text the tokenizer cannot encode (a lone surrogate such as ``"\\ud800"`` is valid JSON but
not valid Unicode), token ids that are not integers, lie outside the vocabulary or decode
to nothing: each raises :class:`InvalidItemError` (HTTP 422) naming the input's index,
instead of failing a whole batch of other people's requests inside the model.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .errors import InvalidItemError
from .requests import Item


def check_text(text: str, index: int) -> str:
    """``text`` itself, or :class:`InvalidItemError` when it cannot be encoded as UTF-8."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise InvalidItemError(
            f"input {index} is not valid Unicode text: character {exc.start} is a lone "
            f"surrogate ({text[exc.start]!a}); send well-formed UTF-8 text"
        ) from None
    return text


def ids_as_text(predictor: Any, ids: Sequence[Any], index: int) -> str:
    """The text that token ids ``ids`` decode to (special tokens left out), checked."""
    vocab = int(predictor.vocab_size())
    if not ids:
        raise InvalidItemError(f"input {index} has no token ids")
    wrong = [t for t in ids if isinstance(t, bool) or not isinstance(t, int)]
    if wrong:
        raise InvalidItemError(f"input {index} has token ids that are not integers: {wrong[:5]}")
    outside = [t for t in ids if not 0 <= t < vocab]
    if outside:
        raise InvalidItemError(f"input {index} has token ids outside 0..{vocab - 1}: {outside[:5]}")
    text = str(predictor.decode_ids(list(ids)))
    if not text.strip():
        raise InvalidItemError(
            f"input {index}: token ids {list(ids)[:5]} decode to no text (only special or "
            "padding tokens); send ids of real tokens"
        )
    return text


def as_text(predictor: Any, item: Item, index: int) -> str:
    """One input as the text the model runs on."""
    if isinstance(item, str):
        return check_text(item, index)
    return ids_as_text(predictor, item, index)


def prepare(predictor: Any, items: Sequence[Item]) -> list[Item]:
    """Every input as checked text (token ids decoded once, here); the first bad one raises."""
    return [as_text(predictor, item, index) for index, item in enumerate(items)]
