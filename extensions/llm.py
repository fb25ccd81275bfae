"""Large language models on vLLM: the default model per task, the fit check, vLLM's arguments.

``fit_problem`` is copier.yml's validator of the vLLM answers: it estimates the GPU memory a
model needs (weights + the KV cache of one ``max_model_len`` sequence + activations) against
the catalog's GPU memory x count x ``--gpu-memory-utilization`` and names the fix when it does
not fit. ``vllm_args`` is the one place that computes vLLM's command-line arguments; every
target reads them (rendered into the generated ``project.py`` and the artifacts).
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

#: The model a new project of each task starts from, at a pinned Hub commit.
DEFAULT_MODELS = {
    "feature-extraction": (
        "sentence-transformers/all-MiniLM-L6-v2",
        "c9745ed1d9f207416be6d2e6f8de32d1f16199bf",
    ),
    "text-classification": (
        "distilbert/distilbert-base-uncased-finetuned-sst-2-english",
        "714eb0fa89d2f80546fda750413ed43d93601a13",
    ),
    "text-generation": ("Qwen/Qwen2.5-0.5B-Instruct", "7ae557604adf67be50417f59c2c2f167def9a775"),
}

#: Parameter counts people write in model names: "70B", "0.5B", "8x7B", "350M".
_SIZE_IN_NAME = re.compile(r"(?:(\d+)x)?(\d+(?:\.\d+)?)([BM])(?![a-z])", re.IGNORECASE)

#: Without a config to read: grouped-query attention with 8 KV heads of 128 dimensions (the
#: Llama 3, Qwen 2.5 and Mistral families) and a layer count that grows with size, fitted to
#: those families and erring high (0.5B: 24, 8B: 32, 70B: 80, 405B: 126 layers).
ESTIMATED_KV_DIM = 8 * 128


def default_model(task: str) -> str:
    return DEFAULT_MODELS.get(task, DEFAULT_MODELS["feature-extraction"])[0]


def default_revision(model_id: str) -> str:
    pinned = {model: revision for model, revision in DEFAULT_MODELS.values()}
    return pinned.get(model_id, "")


def params_from_name(model_id: str) -> float:
    """Billions of parameters a model's name says ("Llama-3.1-70B" -> 70.0); 0 when silent."""
    found = 0.0
    for experts, number, unit in _SIZE_IN_NAME.findall(model_id.rsplit("/", 1)[-1]):
        size = float(number) * (int(experts) if experts else 1)
        found = max(found, size / 1000 if unit.upper() == "M" else size)
    return found


@dataclass(frozen=True)
class ModelShape:
    """What the KV cache of one token costs: layers x KV heads x head dimension."""

    layers: int
    kv_heads: int
    head_dim: int
    source: str  # "config.json" or "estimate"

    @property
    def kv_bytes_per_token(self) -> int:
        """Keys and values, 2 bytes each (the KV cache is kept in bf16/fp16)."""
        return 2 * self.layers * self.kv_heads * self.head_dim * 2


def model_shape(model_id: str, params_b: float) -> ModelShape:
    """From the local model's config.json when there is one, else the per-size estimate."""
    config_file = Path(model_id).expanduser() / "config.json"
    if model_id.startswith(("/", "./", "../", "~/")) and config_file.is_file():
        config = json.loads(config_file.read_text(encoding="utf-8"))
        config = config.get("text_config", config)
        heads = int(config["num_attention_heads"])
        head_dim = int(config.get("head_dim") or config["hidden_size"] // heads)
        kv_heads = int(config.get("num_key_value_heads") or heads)
        return ModelShape(int(config["num_hidden_layers"]), kv_heads, head_dim, "config.json")
    layers = max(12, round(24 * max(params_b, 0.1) ** 0.3))
    return ModelShape(layers, ESTIMATED_KV_DIM // 128, 128, "estimate")


@dataclass(frozen=True)
class FitEstimate:
    weights_gb: float
    kv_cache_gb: float
    activations_gb: float
    budget_gb: float

    @property
    def needed_gb(self) -> float:
        return self.weights_gb + self.kv_cache_gb + self.activations_gb

    @property
    def fits(self) -> bool:
        return self.needed_gb <= self.budget_gb


def estimate(
    catalog: Any, accelerator: str, count: int, params_b: float, quantization: str,
    max_model_len: int, model_id: str = "",
) -> FitEstimate:  # fmt: skip
    acc = catalog.ACCELERATORS[accelerator]
    shape = model_shape(model_id, params_b)
    return FitEstimate(
        weights_gb=params_b * catalog.QUANTIZATION_BYTES[quantization],
        kv_cache_gb=shape.kv_bytes_per_token * max_model_len / 1e9,
        activations_gb=catalog.VLLM_ACTIVATIONS_GB_PER_GPU * count,
        budget_gb=acc.memory_gb * count * catalog.gpu_memory_utilization(acc),
    )


def fit_problem(catalog: Any, answers: dict[str, Any]) -> str:
    """Why the model does not fit the GPUs ('' when it does), with the fixes that would work."""
    accelerator, count = answers["accelerator"], int(answers.get("accelerator_count") or 1)
    params_b = float(answers.get("model_params_b") or 0)
    quantization = answers.get("quantization") or "none"
    max_len = int(answers.get("max_model_len") or 0)
    model_id = str(answers.get("model_id") or "")
    if params_b <= 0:
        return (
            f"Give model_params_b, the parameter count of {model_id} in billions "
            "(e.g. 8 or 70, from its model card): the fit check needs it."
        )
    if accelerator not in catalog.ACCELERATORS:
        return ""  # the accelerator's own validator says so
    fit = estimate(catalog, accelerator, count, params_b, quantization, max_len, model_id)
    if fit.fits:
        return ""
    acc = catalog.ACCELERATORS[accelerator]

    def fits(acc_key: str = accelerator, n: int = count, q: str = quantization,
             length: int = max_len) -> bool:  # fmt: skip
        return estimate(catalog, acc_key, n, params_b, q, length, model_id).fits

    fixes = []
    more = next((n for n in (2, 4, 8) if n > count and fits(n=n)), None)
    if more:
        fixes.append(f"more GPUs (accelerator_count={more})")
    bigger = [
        key
        for key, row in catalog.ACCELERATORS.items()
        if row.is_gpu and row.memory_gb > acc.memory_gb and fits(acc_key=key)
    ]
    if bigger:
        fixes.append(f"a bigger GPU (accelerator={bigger[0]})")
    quantized = next((q for q in ("fp8", "awq") if fits(q=q)), None)
    if quantized:
        fixes.append(f"a quantized variant of the model (quantization={quantized})")
    shorter = next((n for n in (4096, 2048, 1024) if n < max_len and fits(length=n)), None)
    if shorter:
        fixes.append(f"a shorter context (max_model_len={shorter})")
    if not fixes:
        fixes.append("a bigger GPU with more GPUs, or a quantized variant of the model")
    return (
        f"{model_id} ({params_b:g}B parameters, quantization {quantization}) needs about "
        f"{math.ceil(fit.needed_gb)} GB of GPU memory (weights {fit.weights_gb:.0f} GB, KV "
        f"cache for max_model_len={max_len} {fit.kv_cache_gb:.1f} GB, activations "
        f"{fit.activations_gb:.1f} GB) but {count} x {acc.display_name} give vLLM "
        f"{fit.budget_gb:.0f} GB. Choose " + ", or ".join(fixes) + "."
    )


def vllm_args(catalog: Any, answers: dict[str, Any]) -> list[str]:
    """vLLM's ``serve`` arguments after the model, the same on every target.

    The port, and the API key (``VLLM_API_KEY`` from a secret), are each target's own.
    """
    acc = catalog.ACCELERATORS[answers["accelerator"]]
    args = [
        "--served-model-name", str(answers["model_id"]),
        "--tensor-parallel-size", str(int(answers.get("accelerator_count") or 1)),
        "--max-model-len", str(int(answers["max_model_len"])),
        "--gpu-memory-utilization", f"{catalog.gpu_memory_utilization(acc):.2f}",
        "--dtype", acc.torch_dtype,
        "--host", "0.0.0.0",
    ]  # fmt: skip
    quantization = answers.get("quantization") or "none"
    if quantization != "none":
        args += ["--quantization", quantization]
    if answers.get("weights_strategy") == "download" and answers.get("model_revision"):
        args += ["--revision", str(answers["model_revision"])]
    return args


def vllm_model(answers: dict[str, Any]) -> str:
    """What ``vllm serve`` loads: the weights in the image or volume, else the Hub id."""
    return (
        str(answers["model_id"]) if answers.get("weights_strategy") == "download" else "/opt/model"
    )
