"""Token streaming for batched text generation (``stream: true`` in the OpenAI API)."""

from __future__ import annotations

from typing import Any


class RowStreamer:
    """A transformers streamer for a whole batch: sends each row's new text to its request."""

    def __init__(self, tokenizer: Any, rows: list[Any]) -> None:
        self.tokenizer, self.rows = tokenizer, rows
        self.ids: list[list[int]] = [[] for _ in rows]
        self.sent = [""] * len(rows)
        self.prompt_seen = False

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
            delta, self.sent[row] = text[len(self.sent[row]) :], text
            item = self.rows[row]
            callback = item.request.on_token
            if delta and callback is not None:
                item.request.streamed = True
                item.request.loop.call_soon_threadsafe(callback, item.index, delta)

    def end(self) -> None:
        return None
