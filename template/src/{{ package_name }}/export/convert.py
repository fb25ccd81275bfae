"""Torch -> ONNX: load the model, export with dynamic axes, fuse attention, write metadata.

optimum-onnx exports the architectures it knows (with eager attention, so onnxruntime's
optimizer can recognise and fuse the attention subgraph); anything else goes through
``torch.onnx.export``. The tokenizer is written as a plain ``tokenizer.json`` so the
runtime needs only the ``tokenizers`` library.
"""

from __future__ import annotations

import inspect
import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

MIN_OPSET = 14  # scaled attention, Trilu and the LayerNorm patterns need 14+
TORCH_OPSET = 17
#: config.model_type -> onnxruntime.transformers optimizer model type (attention fusion)
FUSION_TYPES = {
    "bert": "bert", "roberta": "bert", "xlm-roberta": "bert", "distilbert": "bert",
    "electra": "bert", "camembert": "bert", "mpnet": "bert", "gpt2": "gpt2",
}  # fmt: skip
OPTIMUM_TASKS = {
    "feature-extraction": "feature-extraction",
    "text-classification": "text-classification",
    "text-generation": "text-generation",  # logits only, no past key values
}
OUTPUT_NAMES = {
    "feature-extraction": "last_hidden_state",
    "text-classification": "logits",
    "text-generation": "logits",
}


class ExportError(RuntimeError):
    """The model could not be exported; the message says why and what to try."""


@dataclass
class Loaded:
    tokenizer: Any
    reference: Any  # the model as the torch runtime serves it (the parity reference)
    exportable: Any  # the same weights with eager attention (fusable graph)
    model_type: str


@dataclass
class Converted:
    path: Path
    exporter: str
    opset: int | None
    fusion: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def check_opset(opset: int | None) -> None:
    if opset is not None and opset < MIN_OPSET:
        raise ExportError(
            f"opset {opset} is too old for transformer graphs: use {MIN_OPSET} or newer "
            f"(leave --opset out to let the exporter choose)"
        )


def load(source: str, revision: str | None, task: str) -> Loaded:
    import transformers

    auto = {
        "feature-extraction": transformers.AutoModel,
        "text-classification": transformers.AutoModelForSequenceClassification,
        "text-generation": transformers.AutoModelForCausalLM,
    }[task]
    tokenizer = transformers.AutoTokenizer.from_pretrained(source, revision=revision)  # type: ignore[no-untyped-call,unused-ignore]
    if not tokenizer.is_fast:
        raise ExportError(
            f"{source} has no fast tokenizer (tokenizer.json): the torch-free runtime needs "
            "one; convert it with `AutoTokenizer.from_pretrained(..., use_fast=True)`"
        )
    kwargs: dict[str, Any] = {"revision": revision, "dtype": "float32"}
    reference = auto.from_pretrained(source, **kwargs).eval()
    exportable = auto.from_pretrained(source, attn_implementation="eager", **kwargs).eval()
    return Loaded(tokenizer, reference, exportable, str(reference.config.model_type))


def write_runtime_files(loaded: Loaded, task: str, max_seq_length: int, out: Path) -> None:
    """tokenizer.json and onnx_meta.json: all the runtime needs besides the graph."""
    tokenizer = loaded.tokenizer
    tokenizer.backend_tokenizer.save(str(out / "tokenizer.json"))
    pad_id, pad_token = tokenizer.pad_token_id, tokenizer.pad_token
    if pad_id is None:  # causal models often have no pad token: pad with end-of-sequence
        pad_id, pad_token = tokenizer.eos_token_id, tokenizer.eos_token
    config = loaded.reference.config
    limit = min(max_seq_length, int(getattr(config, "max_position_embeddings", max_seq_length)))
    id2label = getattr(config, "id2label", None) or {}
    meta = {
        "task": task,
        "model_type": loaded.model_type,
        "max_seq_length": limit,
        "pad_token_id": int(pad_id if pad_id is not None else 0),
        "pad_token": str(pad_token or ""),
        "labels": [id2label[i] for i in sorted(id2label)] if task == "text-classification" else [],
        "pooling": "mean" if task == "feature-extraction" else None,
        "normalize": task == "feature-extraction",
        "files": {"fp32": "model.onnx", "int8": None},
    }
    (out / "onnx_meta.json").write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")


def _with_optimum(loaded: Loaded, task: str, out: Path, opset: int | None) -> None:
    from optimum.exporters.onnx import onnx_export_from_model

    onnx_export_from_model(
        loaded.exportable, out, task=OPTIMUM_TASKS[task], opset=opset, do_validation=False
    )


def _with_torch(loaded: Loaded, task: str, out: Path, opset: int | None) -> None:
    import torch

    model = loaded.exportable
    accepted = inspect.signature(model.forward).parameters
    names = [n for n in ("input_ids", "attention_mask", "token_type_ids") if n in accepted]
    output = OUTPUT_NAMES[task]

    class Wrapper(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.inner = model

        def forward(self, *args: torch.Tensor) -> torch.Tensor:
            return getattr(self.inner(**dict(zip(names, args, strict=True))), output)  # type: ignore[no-any-return]

    sample = loaded.tokenizer(["export sample", "a second, longer export sample"], padding=True)
    args = tuple(torch.tensor(sample[n]) for n in names if n in sample)
    names = names[: len(args)]
    axes = {n: {0: "batch", 1: "sequence"} for n in [*names, output]}
    torch.onnx.export(
        Wrapper().eval(), args, str(out / "model.onnx"), input_names=names,
        output_names=[output], dynamic_axes=axes, opset_version=opset or TORCH_OPSET,
        dynamo=False,
    )  # fmt: skip


def export_graph(
    loaded: Loaded, task: str, out: Path, opset: int | None, exporter: str
) -> Converted:
    """Write ``out/model.onnx`` (fp32, dynamic batch and sequence axes)."""
    check_opset(opset)
    notes: list[str] = []
    if exporter in ("auto", "optimum"):
        try:
            _with_optimum(loaded, task, out, opset)
            return Converted(out / "model.onnx", "optimum", opset, notes=notes)
        except (ImportError, ValueError, KeyError, NotImplementedError) as exc:
            if exporter == "optimum":
                raise ExportError(f"optimum could not export {loaded.model_type}: {exc}") from exc
            notes.append(f"optimum could not export this model ({exc}); used torch.onnx")
            log.info(notes[-1])
    try:
        _with_torch(loaded, task, out, opset)
    except Exception as exc:
        raise ExportError(f"torch.onnx.export failed for {loaded.model_type}: {exc}") from exc
    return Converted(out / "model.onnx", "torch.onnx", opset or TORCH_OPSET, notes=notes)


def fuse_attention(converted: Converted, model_type: str, config: Any) -> None:
    """Rewrite the graph with onnxruntime's transformer fusions (Attention, SkipLayerNorm...)."""
    kind = FUSION_TYPES.get(model_type)
    if kind is None:
        converted.notes.append(f"no attention fusion for model type {model_type}")
        return
    from onnxruntime.transformers.optimizer import optimize_model

    heads = int(getattr(config, "num_attention_heads", 0) or getattr(config, "n_head", 0))
    hidden = int(getattr(config, "hidden_size", 0) or getattr(config, "n_embd", 0))
    try:
        optimized = optimize_model(
            str(converted.path), model_type=kind, num_heads=heads, hidden_size=hidden
        )
    except Exception as exc:  # an unfusable graph still serves, unfused
        converted.notes.append(f"graph optimisation failed, kept the plain graph: {exc}")
        return
    stats = optimized.get_fused_operator_statistics()
    converted.fusion = {name: int(count) for name, count in stats.items() if count}
    optimized.save_model_to_file(str(converted.path))
