"""The packed forward: a BERT encoder run on its inputs' real tokens only, no padding.

A padded batch runs at the length of its longest input: 32 sentences of 10 to 70 tokens in
arrival order cost the model 32 x 70 tokens. Here the dense parts of every layer (the
embeddings, the query/key/value, output and feed-forward projections: most of the compute)
run once over the inputs' tokens laid end to end, and attention runs per input at its own
length, so a batch costs the tokens it holds whatever lengths it mixes. On the 2-core
benchmark machine, 32 real sentences in arrival order run 1.6x faster than padded, as fast
as the same sentences sorted by length (docs/benchmarks.md, run 10). Text-embeddings-inference
does the same on GPUs with ragged flash attention; here it is used on CPUs only (``attach``):
on a GPU, per-input attention calls cost launches that padding does not.

The math is transformers' BertModel in eval mode (dropout off), and RobertaModel's (XLM-R's
too), whose positions start after the padding id: ``attach`` builds one only for those
layouts (absolute positions, an encoder; classification with BERT's pooler) and keeps it
only if it answers a probe batch as the padded model does; otherwise the predictor pads, as
it always did, and the log says why.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import torch

log = logging.getLogger(__name__)

#: Inputs of unlike lengths (1 to about 40 tokens), so the probe has padding to remove.
PROBE_TEXTS = [
    "Hi.",
    "A packed forward runs every input at its own length.",
    "The probe batch mixes short and long inputs, so that a padded model and a packed one "
    "see different shapes, and any difference in their math shows in the outputs they give.",
]
#: Largest difference allowed between packed and padded outputs on the probe (per dtype).
TOLERANCE = {"float32": 1e-4, "float64": 1e-6}
TOLERANCE_HALF = 2e-2  # float16 / bfloat16
#: Encoders with BERT's layers, and where their position ids start (RoBERTa: after padding).
ENCODERS = {"bert": False, "roberta": True, "xlm-roberta": True}


class PackedBert:
    """A transformers BertModel's weights, run over concatenated inputs."""

    def __init__(self, bert: Any) -> None:
        import torch

        self.embeddings = bert.embeddings
        after_padding = ENCODERS[bert.config.model_type]
        self.first_position = bert.config.pad_token_id + 1 if after_padding else 0
        self.heads = bert.config.num_attention_heads
        self.threads = torch.get_num_threads()  # each model worker's (torch_predictors.py)
        self.layers = []
        for layer in bert.encoder.layer:
            own = layer.attention.self
            qkv_weight = torch.cat([own.query.weight, own.key.weight, own.value.weight])
            qkv_bias = torch.cat([own.query.bias, own.key.bias, own.value.bias])
            self.layers.append((qkv_weight, qkv_bias, layer))

    def encode(self, ids: list[list[int]]) -> tuple[torch.Tensor, list[int]]:
        """Hidden states of every input's tokens, laid end to end ([tokens, hidden]), and
        each input's length. Run under ``torch.inference_mode``."""
        import torch
        from torch.nn import functional

        lengths = [len(row) for row in ids]
        device = self.embeddings.word_embeddings.weight.device
        flat = torch.tensor([token for row in ids for token in row], device=device)
        start = self.first_position
        positions = torch.cat([torch.arange(start, start + n, device=device) for n in lengths])
        emb = self.embeddings
        x = (
            emb.word_embeddings(flat)
            + emb.position_embeddings(positions)
            + emb.token_type_embeddings.weight[0]
        )
        x = emb.LayerNorm(x)
        width = x.shape[-1]
        head_dim = width // self.heads
        scale = head_dim**-0.5
        groups: dict[int, list[int]] = {}  # inputs of one length share their attention calls
        for index, length in enumerate(lengths):
            groups.setdefault(length, []).append(index)
        for qkv_weight, qkv_bias, layer in self.layers:
            qkv = functional.linear(x, qkv_weight, qkv_bias)
            # q, k, v: [heads, tokens, head_dim] each
            q, k, v = qkv.view(-1, 3, self.heads, head_dim).permute(1, 2, 0, 3)
            with self._one_thread():
                heads = _attention(q, k, v, lengths, groups, scale)
            heads = heads.transpose(0, 1).reshape(-1, width)
            x = layer.attention.output(heads, x)  # dense, residual, LayerNorm
            x = layer.output(layer.intermediate(x), x)  # feed-forward, residual, LayerNorm
        return x, lengths

    @contextmanager
    def _one_thread(self) -> Iterator[None]:
        """Run the per-input attention ops on this thread alone. Each is too small to share:
        started from a model worker's thread (not the main one), OpenMP's start-up per op
        cost more than it saved (1 worker x 2 threads, the corpus of docs/benchmarks.md run
        10: 205-212 sentences/s against 265-281 with attention on one thread).
        torch.set_num_threads sets the calling thread's OpenMP and MKL threads; it also sets
        the default a thread takes on its first parallel op, so each call sets this worker's
        own count back at once."""
        import torch

        if self.threads == 1:
            yield
            return
        torch.set_num_threads(1)
        try:
            yield
        finally:
            torch.set_num_threads(self.threads)

    def mean_pooled(self, hidden: torch.Tensor, lengths: list[int]) -> torch.Tensor:
        """Each input's mean over its tokens: [inputs, hidden]."""
        import torch

        index = torch.repeat_interleave(
            torch.arange(len(lengths), device=hidden.device),
            torch.tensor(lengths, device=hidden.device),
        )
        sums = hidden.new_zeros(len(lengths), hidden.shape[-1]).index_add_(0, index, hidden)
        counts = torch.tensor(lengths, device=hidden.device, dtype=hidden.dtype).clamp(min=1)
        return sums / counts[:, None]  # an input of no tokens pools to zeros, as when padded

    def first_tokens(self, hidden: torch.Tensor, lengths: list[int]) -> torch.Tensor:
        """Each input's first token ([CLS]): [inputs, hidden]."""
        import torch

        starts = [0]
        for length in lengths[:-1]:
            starts.append(starts[-1] + length)
        return hidden[torch.tensor(starts, device=hidden.device)]


def _attention(
    q: torch.Tensor,
    k: torch.Tensor,
    v: torch.Tensor,
    lengths: list[int],
    groups: dict[int, list[int]],
    scale: float,
) -> torch.Tensor:
    """softmax(q k^T * scale) v for each input at its own length ([heads, tokens, head_dim]
    in and out), one batched call per length. Written out: on a CPU, for one input's few
    dozen tokens, this is about twice as fast as scaled_dot_product_attention."""
    import torch

    def attend(q_: torch.Tensor, k_: torch.Tensor, v_: torch.Tensor) -> torch.Tensor:
        return torch.softmax((q_ * scale) @ k_.transpose(-1, -2), dim=-1) @ v_

    if len(groups) == 1:  # every input of one length (identical inputs): one call for all
        heads, dim = q.shape[0], q.shape[-1]
        n, length = len(lengths), lengths[0]

        def stacked(t: torch.Tensor) -> torch.Tensor:
            return t.reshape(heads, n, length, dim).transpose(0, 1)

        out = attend(stacked(q), stacked(k), stacked(v))  # [inputs, heads, length, dim]
        return out.transpose(0, 1).reshape(heads, n * length, dim)
    pieces = [torch.split(t, lengths, 1) for t in (q, k, v)]
    outputs: list[torch.Tensor] = [q] * len(lengths)  # each input's, in input order
    for members in groups.values():
        if len(members) == 1:
            at = members[0]
            outputs[at] = attend(pieces[0][at], pieces[1][at], pieces[2][at])
            continue
        q_, k_, v_ = (torch.stack([part[at] for at in members]) for part in pieces)
        for at, out in zip(members, attend(q_, k_, v_).unbind(0), strict=True):
            outputs[at] = out
    return torch.cat(outputs, dim=1)


def unsupported(model: Any, task: str) -> str | None:
    """Why ``model`` cannot run packed (None: it can)."""
    config = model.config
    if task not in ("feature-extraction", "text-classification"):
        return f"the {task} task runs padded"
    if config.model_type not in ENCODERS:
        return f"only BERT and RoBERTa encoders run packed, this model is {config.model_type!r}"
    if getattr(config, "position_embedding_type", "absolute") != "absolute":
        return "only absolute position embeddings run packed"
    if config.is_decoder or getattr(config, "add_cross_attention", False):
        return "only encoders run packed"
    if task == "text-classification" and (
        getattr(model, "bert", None) is None or model.bert.pooler is None
    ):
        return "of the classifiers only BertForSequenceClassification runs packed"
    return None


def attach(predictor: Any, mode: str) -> None:
    """Give ``predictor`` a packed forward when ``mode`` is auto, it runs on a CPU, its model is
    a plain BERT, and its packed outputs match its padded ones on ``PROBE_TEXTS``."""
    if mode == "off" or not str(predictor.device).startswith("cpu"):
        return
    why = unsupported(predictor.model, predictor.task)
    if why:
        log.info("padded forward: %s", why)
        return
    bert = predictor.model if predictor.task == "feature-extraction" else predictor.model.bert
    padded = _numbers(predictor.predict(PROBE_TEXTS))
    predictor.packed = PackedBert(bert)
    packed = _numbers(predictor.predict(PROBE_TEXTS))
    dtype = str(next(predictor.model.parameters()).dtype).removeprefix("torch.")
    worst = max(abs(a - b) for a, b in zip(padded, packed, strict=True))
    if worst > TOLERANCE.get(dtype, TOLERANCE_HALF):
        predictor.packed = None
        log.warning("padded forward: packed outputs differ by %.2g on the probe", worst)
        return
    log.info("packed forward: inputs run without padding (probe difference %.2g)", worst)


def _numbers(outputs: list[Any]) -> list[float]:
    """Every number in predictor outputs (vectors, or labels with scores), in order."""
    found: list[float] = []
    for value in outputs:
        if isinstance(value, dict):
            found += _numbers([value[key] for key in sorted(value) if key != "label"])
        elif isinstance(value, list):
            found += _numbers(value)
        else:
            found.append(float(value))
    return found
