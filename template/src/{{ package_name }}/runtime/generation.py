"""Sampling and stopping for text generation, row by row inside one batched ``generate``.

transformers' own sampling draws every row from the one global random generator, so a
row's output would depend on what else shares its batch. Here each row has its own
``torch.Generator`` (seeded with the request's ``seed``, or at random), and the draw is made
in a logits processor that leaves only the chosen token: ``generate`` then runs greedy and
keeps the KV cache, padding and end-of-sequence handling. Same seed, same prompt, same
output, whatever else runs in the batch.

A stopping criterion decodes each row as it grows: it ends a row at a stop string and
streams only text that cannot turn out to be the start of one (each token's text leaves as
soon as it is computed, never text past a stop string).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import torch


#: Below this temperature sampling is greedy: dividing logits by less overflows float32.
MIN_TEMPERATURE = 1e-4


@dataclass(frozen=True)
class Sampling:
    """One batch's generation parameters (requests only share a batch when they are equal).

    ``temperature`` 0 (below ``MIN_TEMPERATURE``) is greedy (``top_p``, ``top_k`` and
    ``seed`` then do nothing); ``top_k`` 0 keeps every token. The penalties are OpenAI's:
    a token's logit is lowered by ``presence_penalty`` once it appeared in the completion
    and by ``frequency_penalty`` times the number of times it did (negative values
    encourage repetition).
    """

    max_new_tokens: int = 64
    temperature: float = 0.0
    top_p: float = 1.0
    top_k: int = 0
    seed: int | None = None
    stop: tuple[str, ...] = ()
    presence_penalty: float = 0.0
    frequency_penalty: float = 0.0


def cut_at_stop(text: str, stop: tuple[str, ...]) -> tuple[str, bool]:
    """``text`` up to the first stop string (excluded), and whether one was found."""
    found = [i for i in (text.find(s) for s in stop) if i >= 0]
    return (text[: min(found)], True) if found else (text, False)


def safe_prefix(text: str, stop: tuple[str, ...]) -> str:
    """The part of ``text`` that can be sent now: without a tail that may yet grow into a
    stop string (``"foo\\n"`` waits while stop is ``["\\n\\n"]``)."""
    hold = 0
    for s in stop:
        for size in range(min(len(s) - 1, len(text)), hold, -1):
            if text.endswith(s[:size]):
                hold = size
                break
    return text[: len(text) - hold]


class RowSampler:
    """A logits processor: penalties, then per row greedy or a draw from its own generator.

    It returns logits that are ``-inf`` everywhere but the chosen token, so that
    ``generate(do_sample=False)`` picks exactly that token."""

    def __init__(self, sampling: Sampling, rows: int, prompt_len: int, device: str) -> None:
        import torch

        self.sampling, self.prompt_len = sampling, prompt_len
        self.generators = []
        if sampling.temperature >= MIN_TEMPERATURE:
            for _ in range(rows):
                generator = torch.Generator(device=device)
                if sampling.seed is None:
                    generator.seed()  # fresh entropy: unseeded requests differ
                else:
                    generator.manual_seed(sampling.seed)
                self.generators.append(generator)

    def __call__(self, input_ids: torch.Tensor, scores: torch.Tensor) -> torch.Tensor:
        import torch

        s = self.sampling
        logits = scores.float()
        if s.presence_penalty or s.frequency_penalty:
            generated = input_ids[:, self.prompt_len :]
            counts = torch.zeros_like(logits).scatter_add_(
                1, generated, torch.ones_like(generated, dtype=logits.dtype)
            )
            logits = logits - s.frequency_penalty * counts - s.presence_penalty * (counts > 0)
        greedy = s.temperature < MIN_TEMPERATURE
        chosen = logits.argmax(dim=-1) if greedy else self._draw(logits / s.temperature)
        out = torch.full_like(scores, float("-inf"))
        return out.scatter_(1, chosen.unsqueeze(1), 0.0)

    def _draw(self, logits: torch.Tensor) -> torch.Tensor:
        import torch

        s = self.sampling
        if 0 < s.top_k < logits.shape[-1]:
            kth = torch.topk(logits, s.top_k, dim=-1).values[:, -1:]
            logits = logits.masked_fill(logits < kth, float("-inf"))
        if s.top_p < 1.0:
            ordered, order = logits.sort(dim=-1, descending=True)
            before = ordered.softmax(dim=-1).cumsum(dim=-1) - ordered.softmax(dim=-1)
            drop = before >= s.top_p  # the smallest set whose mass reaches top_p stays
            drop[:, 0] = False  # and the likeliest token always (rounding: ``before`` > 0)
            logits = logits.masked_fill(drop.scatter(1, order, drop), float("-inf"))
        probs = logits.softmax(dim=-1)
        draws = [
            torch.multinomial(row, 1, generator=generator)
            for row, generator in zip(probs, self.generators, strict=True)
        ]
        return torch.cat(draws)


@dataclass
class RowText:
    """A row's completion so far: its text (cut at a stop string) and why it ended."""

    ids: list[int]
    text: str = ""
    finish: str | None = None  # "stop" (end of sequence or stop string) or "length"


class RowWatcher:
    """A stopping criterion: ends each row at end-of-sequence or a stop string and sends
    each row's new text to ``streamer`` (``emit(row, text_so_far)``) as it is produced."""

    def __init__(
        self, tokenizer: Any, sampling: Sampling, prompt_len: int, streamer: Any = None
    ) -> None:
        self.tokenizer, self.sampling = tokenizer, sampling
        self.prompt_len, self.streamer = prompt_len, streamer
        self.rows: list[RowText] = []

    def __call__(self, input_ids: torch.Tensor, scores: torch.Tensor, **_: Any) -> torch.Tensor:
        import torch

        if not self.rows:
            self.rows = [RowText([]) for _ in range(input_ids.shape[0])]
        done = [self.update(i, ids) for i, ids in enumerate(input_ids[:, self.prompt_len :])]
        return torch.tensor(done, dtype=torch.bool, device=input_ids.device)

    def update(self, index: int, new_ids: Any, final: bool = False) -> bool:
        """Take row ``index``'s generated ids; stream its new text; True once it ended."""
        row = self.rows[index]
        if row.finish is not None:
            return True
        eos = self.tokenizer.eos_token_id
        ids = [int(t) for t in new_ids.tolist()]
        ended = eos is not None and eos in ids
        row.ids = ids[: ids.index(eos)] if ended else ids
        text, stopped = cut_at_stop(self.decode(row.ids), self.sampling.stop)
        if ended or stopped:
            row.finish = "stop"
        elif final or len(ids) >= self.sampling.max_new_tokens:
            row.finish = "length"
        row.text = text
        # Unfinished: hold back an incomplete character (a multi-byte one cut between
        # tokens decodes as U+FFFD) and what may be the start of a stop string.
        visible = text if row.finish else safe_prefix(text.rstrip("\ufffd"), self.sampling.stop)
        if self.streamer is not None:
            self.streamer.emit(index, visible)
        return row.finish is not None

    def decode(self, ids: list[int]) -> str:
        return str(self.tokenizer.decode(ids, skip_special_tokens=True))


def generate(
    model: Any, tokenizer: Any, batch: dict[str, Any], sampling: Sampling, streamer: Any = None
) -> list[dict[str, Any]]:
    """Run ``model.generate`` on an encoded, left-padded batch; one result per row:
    ``{"text", "tokens", "finish_reason"}``."""
    import torch
    from transformers import LogitsProcessorList, StoppingCriteriaList

    prompt_len = batch["input_ids"].shape[1]
    rows = batch["input_ids"].shape[0]
    device = str(batch["input_ids"].device)
    watcher = RowWatcher(tokenizer, sampling, prompt_len, streamer)
    with torch.inference_mode():
        output = model.generate(
            **batch,
            max_new_tokens=sampling.max_new_tokens,
            do_sample=False,  # RowSampler has already chosen the token (see the module doc)
            logits_processor=LogitsProcessorList([RowSampler(sampling, rows, prompt_len, device)]),
            stopping_criteria=StoppingCriteriaList([watcher]),
            pad_token_id=tokenizer.pad_token_id,
        )
    if not watcher.rows:
        watcher.rows = [RowText([]) for _ in range(rows)]
    results = []
    for index, new_ids in enumerate(output[:, prompt_len:]):
        watcher.update(index, new_ids, final=True)  # also flushes held-back text to a stream
        row = watcher.rows[index]
        results.append({"text": row.text, "tokens": len(row.ids), "finish_reason": row.finish})
    return results
