"""Run an exported ONNX text model with onnxruntime, tokenizers and numpy only.

This file is self-contained on purpose: the server's onnxruntime path imports it, and
``export-onnx --bundle`` copies it verbatim into the edge bundle as ``runner.py``, so the
code that passed the parity gate is the code that runs on the device. No torch, no
transformers, no imports from this package.

Bundle usage::

    python runner.py "a sentence" "another one"        # one JSON line per input
    python runner.py --precision fp32 -i texts.txt     # a text per line
    python runner.py --bench                           # fp32 vs int8 latency on this device
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

META_FILE = "onnx_meta.json"
TOKENIZER_FILE = "tokenizer.json"
PROVIDERS = {"cpu": "CPUExecutionProvider", "cuda": "CUDAExecutionProvider"}


class ProviderNotActiveError(RuntimeError):
    """onnxruntime silently fell back from the requested execution provider."""


def read_meta(model_dir: Path) -> dict[str, Any]:
    path = model_dir / META_FILE
    if not path.is_file():
        raise FileNotFoundError(
            f"{path} is missing: point at a directory written by `export-onnx` (it holds "
            f"model.onnx, {TOKENIZER_FILE} and {META_FILE})"
        )
    meta: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return meta


class OnnxTextModel:
    """An ONNX session plus its tokenizer, for feature-extraction and classification."""

    def __init__(self, model_path: Path, device: str = "cpu", threads: int | None = None) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        model_path = Path(model_path)
        if not model_path.is_file():
            raise FileNotFoundError(
                f"ONNX model {model_path} not found: run `export-onnx` first, or set ONNX_PATH "
                "to the exported model.onnx"
            )
        self.meta = read_meta(model_path.parent)
        self.task: str = self.meta["task"]
        self.max_seq_length: int = int(self.meta["max_seq_length"])
        self.requested_device = device
        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        if threads:
            options.intra_op_num_threads = threads
        wanted = [PROVIDERS[device]] if device == "cpu" else [PROVIDERS[device], PROVIDERS["cpu"]]
        self.session = ort.InferenceSession(str(model_path), options, providers=wanted)
        self.input_names = {i.name for i in self.session.get_inputs()}
        raw = (model_path.parent / TOKENIZER_FILE).read_text(encoding="utf-8")
        self._counter = Tokenizer.from_str(raw)
        self._counter.no_truncation()
        self._counter.no_padding()
        self._encoder = Tokenizer.from_str(raw)
        self._encoder.enable_truncation(self.max_seq_length)
        self._encoder.enable_padding(
            pad_id=int(self.meta["pad_token_id"]), pad_token=str(self.meta["pad_token"])
        )

    def active_device(self) -> str:
        """``cuda`` only when onnxruntime really placed the graph on the CUDA provider."""
        return "cuda" if self.session.get_providers()[0] == PROVIDERS["cuda"] else "cpu"

    def check_provider(self) -> None:
        if self.active_device() != self.requested_device:
            raise ProviderNotActiveError(
                f"{PROVIDERS[self.requested_device]} was requested but onnxruntime runs on "
                f"{self.session.get_providers()}: install onnxruntime-gpu with a CUDA runtime "
                "that matches the driver, and run the container with GPU access"
            )

    def count_tokens(self, texts: list[str]) -> list[int]:
        return [len(e.ids) for e in self._counter.encode_batch(texts)]

    def encode(self, texts: list[str]) -> dict[str, np.ndarray]:
        encodings = self._encoder.encode_batch(texts)
        arrays = {
            "input_ids": np.array([e.ids for e in encodings], dtype=np.int64),
            "attention_mask": np.array([e.attention_mask for e in encodings], dtype=np.int64),
            "token_type_ids": np.array([e.type_ids for e in encodings], dtype=np.int64),
        }
        if "position_ids" in self.input_names:
            positions = np.cumsum(arrays["attention_mask"], axis=1) - 1
            arrays["position_ids"] = np.clip(positions, 0, None)
        return {name: value for name, value in arrays.items() if name in self.input_names}

    def forward(self, inputs: dict[str, np.ndarray]) -> np.ndarray:
        output: np.ndarray = self.session.run(None, inputs)[0]
        return output

    def embed(self, texts: list[str]) -> np.ndarray:
        """Mean pooling over real tokens, then L2 normalisation (as the torch path does)."""
        inputs = self.encode(texts)
        return mean_pool(self.forward(inputs), inputs["attention_mask"])

    def classify(self, texts: list[str]) -> list[dict[str, Any]]:
        probs = softmax(self.forward(self.encode(texts)))
        labels: list[str] = self.meta["labels"]
        results = []
        for row in probs.tolist():
            best = int(np.argmax(row))
            results.append(
                {
                    "label": labels[best],
                    "score": row[best],
                    "scores": {labels[i]: p for i, p in enumerate(row)},
                }
            )
        return results

    def predict(self, texts: list[str]) -> list[Any]:
        if self.task == "feature-extraction":
            vectors: list[Any] = self.embed(texts).tolist()
            return vectors
        if self.task == "text-classification":
            return self.classify(texts)
        raise ValueError(
            f"the onnxruntime runner serves feature-extraction and "
            f"text-classification, not {self.task}"
        )


def mean_pool(hidden: np.ndarray, mask: np.ndarray) -> np.ndarray:
    weights = mask[..., None].astype(np.float32)
    pooled = (hidden.astype(np.float32) * weights).sum(axis=1) / np.clip(
        weights.sum(axis=1), 1e-9, None
    )
    norms = np.clip(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12, None)
    normalised: np.ndarray = pooled / norms
    return normalised


def softmax(logits: np.ndarray) -> np.ndarray:
    shifted = np.exp(logits.astype(np.float32) - logits.max(axis=-1, keepdims=True))
    probs: np.ndarray = shifted / shifted.sum(axis=-1, keepdims=True)
    return probs


def _model_file(bundle: Path, precision: str) -> Path:
    files: dict[str, str | None] = read_meta(bundle)["files"]
    if precision == "auto":
        precision = "int8" if files.get("int8") else "fp32"
    name = files.get(precision)
    if not name:
        raise SystemExit(f"this bundle has no {precision} model (see report.md for why)")
    return bundle / name


def _bench(bundle: Path, runs: int) -> None:
    texts = ["A short sentence to time on this device."]
    for precision in ("fp32", "int8"):
        if not read_meta(bundle)["files"].get(precision):
            continue
        model = OnnxTextModel(_model_file(bundle, precision))
        model.predict(texts)
        times = []
        for _ in range(runs):
            start = time.perf_counter()
            model.predict(texts)
            times.append((time.perf_counter() - start) * 1000)
        print(f"{precision}: median {float(np.median(times)):.2f} ms per input (batch 1)")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Run the exported model on this device.")
    parser.add_argument("texts", nargs="*", help="texts to run through the model")
    parser.add_argument("-i", "--input-file", type=Path, help="a text per line")
    parser.add_argument("--precision", choices=["auto", "int8", "fp32"], default="auto")
    parser.add_argument("--threads", type=int, default=None, help="CPU threads (default: all)")
    parser.add_argument("--bench", action="store_true", help="time fp32 and int8 at batch 1")
    parser.add_argument("--runs", type=int, default=50)
    args = parser.parse_args(argv)
    bundle = Path(__file__).resolve().parent
    if args.bench:
        _bench(bundle, args.runs)
        return
    texts = list(args.texts)
    if args.input_file:
        lines = args.input_file.read_text(encoding="utf-8").splitlines()
        texts += [line for line in lines if line.strip()]
    if not texts:
        parser.error("give texts as arguments or --input-file")
    model = OnnxTextModel(_model_file(bundle, args.precision), threads=args.threads)
    for index, tokens in enumerate(model.count_tokens(texts)):
        if tokens > model.max_seq_length:
            sys.exit(f"input {index} has {tokens} tokens; the limit is {model.max_seq_length}")
    for text, output in zip(texts, model.predict(texts), strict=True):
        sys.stdout.write(json.dumps({"input": text, "output": output}) + "\n")


if __name__ == "__main__":
    main()
