"""Token streaming for batched text generation (``stream: true`` in the OpenAI API)."""

from __future__ import annotations

from typing import Any


class RowStreamer:
    """Sends each row of a batch its new text, to its own request, as it is produced.

    The predictor calls ``emit(row, text)`` with the row's whole text so far (text it may
    still take back, such as the start of a stop string, left out); ``put``/``end`` make it
    a transformers streamer too, for a predictor that hands it to ``generate`` as it is.
    """

    def __init__(self, tokenizer: Any, rows: list[Any]) -> None:
        self.tokenizer, self.rows = tokenizer, rows
        self.ids: list[list[int]] = [[] for _ in rows]
        self.sent = [""] * len(rows)
        self.prompt_seen = False

    def emit(self, row: int, text: str) -> None:
        """Send row ``row`` what ``text`` adds to what it was sent already."""
        if not text.startswith(self.sent[row]):
            return  # never take back what was sent; the final answer has the whole text
        delta, self.sent[row] = text[len(self.sent[row]) :], text
        item = self.rows[row]
        callback = item.request.on_token
        if delta and callback is not None:
            item.request.streamed = True  # isolation.py: not rerun if its batch fails
            item.request.loop.call_soon_threadsafe(callback, item.index, delta)

    def put(self, value: Any) -> None:
        if not self.prompt_seen:  # generate() first passes the prompt
            self.prompt_seen = True
            return
        eos = self.tokenizer.eos_token_id
        for row, token in enumerate(value.reshape(-1).tolist()):
            ids = self.ids[row]
            if ids and ids[-1] == eos:
                continue
            ids.append(token)
            text = self.tokenizer.decode([t for t in ids if t != eos], skip_special_tokens=True)
            self.emit(row, text)

    def end(self) -> None:
        return None
