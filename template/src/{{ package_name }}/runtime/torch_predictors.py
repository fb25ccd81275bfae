"""The torch runtime: load a transformers model and run batched predictions for the task.

Heavy imports (torch, transformers) happen inside functions so that the CLI, the
config and the deploy code start fast and work without them.
"""

from __future__ import annotations

import copy
import dataclasses
import itertools
import logging
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Self, cast

from ..errors import InputTooLongError
from ..settings import Settings
from .packed import attach
from .predictor import Predictor
from .workers import GpuLayout, check_gpus, gpu_layout, placements, worker_layout

if TYPE_CHECKING:
    import torch

log = logging.getLogger(__name__)


@dataclass
class _TorchBase:
    tokenizer: Any
    model: Any
    device: str
    max_seq_length: int
    task: str = ""
    packed: Any = None  # packed.PackedBert: inputs run without padding (packed.attach)

    @property
    def padding_free(self) -> bool:
        """Whether a batch costs its real tokens, not its inputs x the longest (grouping.py)."""
        return self.packed is not None

    def count_tokens(self, texts: list[str]) -> list[int]:
        encoded = self.tokenizer(texts, add_special_tokens=True, truncation=False)
        return [len(ids) for ids in encoded["input_ids"]]

    def check_lengths(self, texts: list[str]) -> None:
        for index, tokens in enumerate(self.count_tokens(texts)):
            if tokens > self.max_seq_length:
                raise InputTooLongError(index, tokens, self.max_seq_length)

    def vocab_size(self) -> int:
        """Token ids run from 0 to this - 1 (engine/items.py checks inputs against it)."""
        return len(self.tokenizer)

    def special_ids(self) -> list[int]:
        """Ids of special tokens (padding, separators): they decode to no text."""
        return list(self.tokenizer.all_special_ids)

    def decode_ids(self, ids: list[int]) -> str:
        """The text of token ids given as input, special tokens left out."""
        return str(self.tokenizer.decode(ids, skip_special_tokens=True))

    def predict(self, texts: list[str]) -> list[Any]:
        """One output per input, in order; each task's predictor implements it."""
        raise NotImplementedError

    def replica(self) -> Self:
        """A copy for another model worker: the same weights, its own tokenizer. A fast
        tokenizer changes its padding and truncation state on each call, so two threads
        must not share one."""
        return dataclasses.replace(self, tokenizer=copy.deepcopy(self.tokenizer))

    def _ids(self, texts: list[str]) -> list[list[int]]:
        """Each input's token ids, unpadded, for the packed forward."""
        encoded = self.tokenizer(texts, truncation=True, max_length=self.max_seq_length)
        return cast(list[list[int]], encoded["input_ids"])

    def _encode(self, texts: list[str]) -> dict[str, torch.Tensor]:
        batch = self.tokenizer(
            texts,
            padding=True,
            truncation=True,
            max_length=self.max_seq_length,
            return_tensors="pt",
        )
        return {name: tensor.to(self.device) for name, tensor in batch.items()}


class EmbeddingPredictor(_TorchBase):
    """feature-extraction: mean pooling over real tokens, then L2 normalisation."""

    def predict(self, texts: list[str]) -> list[list[float]]:
        import torch

        with torch.inference_mode():
            if self.packed is not None:
                pooled = self.packed.mean_pooled(*self.packed.encode(self._ids(texts)))
            else:
                batch = self._encode(texts)
                hidden = self.model(**batch).last_hidden_state
                mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
                pooled = (hidden * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1e-9)
            normalised = torch.nn.functional.normalize(pooled.float(), p=2, dim=1)
        return cast(list[list[float]], normalised.cpu().tolist())


class ClassificationPredictor(_TorchBase):
    """text-classification: the top label and the score of every label."""

    def predict(self, texts: list[str]) -> list[dict[str, Any]]:
        import torch

        with torch.inference_mode():
            if self.packed is not None:  # BertForSequenceClassification: [CLS], pooler, head
                first = self.packed.first_tokens(*self.packed.encode(self._ids(texts)))
                logits = self.model.classifier(self.model.bert.pooler(first[:, None]))
            else:
                logits = self.model(**self._encode(texts)).logits
            probs = logits.float().softmax(dim=-1).cpu()
        labels = self.model.config.id2label
        results = []
        for row in probs.tolist():
            best = max(range(len(row)), key=row.__getitem__)
            results.append(
                {
                    "label": labels[best],
                    "score": row[best],
                    "scores": {labels[i]: p for i, p in enumerate(row)},
                }
            )
        return results


@dataclass
class GenerationPredictor(_TorchBase):
    """text-generation: the continuation of each prompt (decoded new tokens only), greedy
    or sampled per ``generation.Sampling`` (the request's options)."""

    max_new_tokens: int = 64

    def predict(
        self, texts: list[str], streamer: Any = None, **options: Any
    ) -> list[dict[str, Any]]:
        from .generation import Sampling, generate

        batch = self._encode(texts)
        sampling = Sampling(**{"max_new_tokens": self.max_new_tokens, **options})
        prompt_len = batch["input_ids"].shape[1]
        config = self.model.config
        positions = getattr(config, "max_position_embeddings", None) or getattr(
            config, "n_positions", None
        )
        if positions:  # never run past the position table: stop with finish_reason "length"
            limit = max(1, min(sampling.max_new_tokens, positions - prompt_len))
            sampling = dataclasses.replace(sampling, max_new_tokens=limit)
        return generate(self.model, self.tokenizer, batch, sampling, streamer)


_PREDICTORS: dict[str, type[_TorchBase]] = {
    "feature-extraction": EmbeddingPredictor,
    "text-classification": ClassificationPredictor,
    "text-generation": GenerationPredictor,
}


def _auto_class(task: str) -> Any:
    import transformers

    return {
        "feature-extraction": transformers.AutoModel,
        "text-classification": transformers.AutoModelForSequenceClassification,
        "text-generation": transformers.AutoModelForCausalLM,
    }[task]


def resolve_device(requested: str) -> str:
    """The device to load on; refuses to fall back silently from CUDA to CPU."""
    import torch

    if requested == "cuda" and not torch.cuda.is_available():
        raise RuntimeError(
            "the service is configured for a GPU but CUDA is not available: check that the "
            "container runs with the NVIDIA runtime (--gpus all / nvidia.com/gpu resources) "
            "and that the host driver is recent enough (`doctor`)"
        )
    return requested


class DevicePool:
    """Data parallel: one predictor per GPU, each with its own weights on its own device.

    The batcher gives each of its workers ``replica()``: worker i gets the predictor on
    ``cuda:i`` (round robin), so N workers keep N GPUs busy. Direct calls (warm-up, the
    ``predict`` command) use the first GPU; ``members`` lets the loader warm every one.
    """

    def __init__(self, members: list[_TorchBase]) -> None:
        self.members = members
        self.task = members[0].task
        self.device = members[0].device.split(":")[0]
        self.model = members[0].model
        self.tokenizer = members[0].tokenizer  # for chat templates (one tokenizer, read only)
        self._handed_out = itertools.count()
        self._lock = threading.Lock()

    def replica(self) -> _TorchBase:
        with self._lock:
            return self.members[next(self._handed_out) % len(self.members)]

    def active_device(self) -> str:
        types = {str(next(m.model.parameters()).device.type) for m in self.members}
        return types.pop() if len(types) == 1 else ",".join(sorted(types))

    def count_tokens(self, texts: list[str]) -> list[int]:
        return self.members[0].count_tokens(texts)

    def check_lengths(self, texts: list[str]) -> None:
        self.members[0].check_lengths(texts)

    def predict(self, texts: list[str], **kwargs: Any) -> list[Any]:
        return self.members[0].predict(texts, **kwargs)


def parameter_bytes(source: str, revision: str | None, task: str, dtype: torch.dtype) -> int:
    """The weights' size in ``dtype``, counted on the meta device (nothing is allocated)."""
    import torch
    from transformers import AutoConfig

    config = AutoConfig.from_pretrained(source, revision=revision)
    with torch.device("meta"):
        model = _auto_class(task).from_config(config, dtype=dtype)
    return int(sum(p.numel() for p in model.parameters()) * dtype.itemsize)


def load_torch_predictor(settings: Settings) -> Predictor:
    """Load tokenizer and weights from ``settings.model_source`` at the pinned revision,
    on every GPU of the machine (``workers.gpu_layout``)."""
    import torch
    from transformers import AutoTokenizer

    threads = worker_layout(settings).threads
    if threads:
        torch.set_num_threads(threads)  # per worker: the workers share the CPU
    device = resolve_device(settings.device)
    is_local = settings.model_dir is not None or settings.model_id.startswith(("/", ".", "~"))
    revision = None if is_local else settings.model_revision
    source = settings.model_source
    if settings.model_dir is not None and not (settings.model_dir / "config.json").is_file():
        raise FileNotFoundError(
            f"model directory {settings.model_dir} has no config.json: copy or mount the "
            "weights there (save_pretrained layout), or unset MODEL_DIR to use the Hub"
        )
    dtype = getattr(torch, settings.torch_dtype)
    layout = GpuLayout("cpu", ("cpu",))
    if device != "cpu":
        size = parameter_bytes(source, revision, settings.task, dtype)
        layout = gpu_layout(size)
        check_gpus(layout, torch.cuda.device_count())
    log.info("loading %s (%s) at revision %s: %s", source, settings.task, revision, layout)

    tokenizer = AutoTokenizer.from_pretrained(source, revision=revision)
    if settings.task == "text-generation":
        tokenizer.padding_side = "left"  # new tokens follow the prompt in every row
        if tokenizer.pad_token is None:
            tokenizer.pad_token = tokenizer.eos_token
    members = []
    for placement, load_kwargs in placements(layout, device):
        model = _auto_class(settings.task).from_pretrained(
            source, revision=revision, dtype=dtype, **load_kwargs
        )
        if "device_map" not in load_kwargs:
            model.to(placement)
        member = _predictor(settings, copy.deepcopy(tokenizer), model.eval(), placement)
        attach(member, settings.packed_forward)
        members.append(member)
    if len(members) > 1:
        return cast(Predictor, DevicePool(members))
    return cast(Predictor, members[0])  # every _TorchBase subclass defines predict


def _predictor(settings: Settings, tokenizer: Any, model: Any, device: str) -> _TorchBase:
    kwargs: dict[str, Any] = {}
    if settings.task == "text-generation":
        kwargs["max_new_tokens"] = settings.max_new_tokens
    return _PREDICTORS[settings.task](
        tokenizer=tokenizer,
        model=model,
        device=device,
        max_seq_length=settings.max_seq_length,
        task=settings.task,
        **kwargs,
    )
