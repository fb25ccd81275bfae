"""Built-in engine, text generation on CPU: tokens/s, greedy and sampled, batch 1 and 8.

The cpu-generation case's model (gpt2) has no weights offline here, so two models are
built from a transformers config, random weights (the compute is the real one, the text
is not): the generated tests' tiny GPT-2 (2 layers, 32 wide) and a GPT-2-small-shaped one
(``GPT2Config()``: 12 layers, 768 wide, 50257-token vocabulary, 124M parameters).
Every row writes exactly ``--new-tokens`` words of the tiny tokenizer (end-of-sequence
and ids it cannot decode suppressed, so the big model's 50257-wide head still runs), through
the generated project's own predictor (``runtime/generation.py``), and the time to the
first streamed token is taken with a stand-in streamer. Usage:

    .venv/bin/python benchmarks/llm_builtin.py [--workdir DIR] [--new-tokens 32] [--json out.json]
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = "minilm_embeddings"
PROMPTS = [
    "the food was great and the market rose today",
    "i love this movie",
    "stocks fell at night",
    "we like the book but the film was bad",
    "hello world",
    "they hate the terrible dinner",
    "a good day for a long walk in the",
    "the second sentence is somewhat longer than the first",
]


def render(workdir: Path) -> Path:
    """The cpu-generation case (tests/support/matrix.py), rendered from this commit."""
    project = workdir / "project"
    if not project.exists():
        subprocess.run(
            [sys.executable, "-m", "copier", "copy", "--trust", "--defaults", "--quiet",
             "--vcs-ref", "HEAD", "--data", "task=text-generation",
             "--data", "model_id=openai-community/gpt2",
             "--data", "model_revision=607a30d783dfa663caf39e06633721c8d4cfcd7e",
             str(ROOT), str(project)],
            check=True,
        )  # fmt: skip
    return project


def build_models(project: Path, workdir: Path) -> dict[str, Path]:
    import transformers

    sys.path[:0] = [str(project / "src"), str(project)]
    tiny_models = importlib.import_module("tests.tiny_models")
    tiny = tiny_models.build_tiny_model("text-generation", workdir / "tiny")
    small = workdir / "gpt2-small-shape"
    if not (small / "config.json").exists():
        tiny_models.build_tiny_model("text-generation", small)  # its tokenizer
        config = transformers.GPT2Config(bos_token_id=4, eos_token_id=4, pad_token_id=0)
        transformers.GPT2LMHeadModel(config).save_pretrained(small)
    words = len(transformers.AutoTokenizer.from_pretrained(tiny))
    for path in (tiny, small):  # every row writes exactly --new-tokens tokens, all words
        generation = transformers.GenerationConfig.from_pretrained(path)
        vocab = transformers.AutoConfig.from_pretrained(path).vocab_size
        generation.suppress_tokens = [0, 1, 2, 3, 4, *range(words, vocab)]
        generation.save_pretrained(path)
    return {"tiny GPT-2 (2x32)": tiny, "GPT-2-small shape (124M)": small}


class FirstToken:
    """Records when the first text of row 0 is streamed."""

    def __init__(self) -> None:
        self.at: float | None = None

    def emit(self, row: int, text: str) -> None:
        if self.at is None and text:
            self.at = time.perf_counter()


def measure(predictor: Any, batch: int, options: dict[str, Any], rounds: int) -> dict[str, float]:
    prompts = (PROMPTS * batch)[:batch]
    predictor.predict(prompts, **options)  # warm-up
    rates, firsts = [], []
    for _ in range(rounds):
        first = FirstToken()
        start = time.perf_counter()
        outputs = predictor.predict(prompts, streamer=first, **options)
        elapsed = time.perf_counter() - start
        rates.append(sum(o["tokens"] for o in outputs) / elapsed)
        firsts.append(((first.at or start) - start) * 1000)
    return {"tokens_per_s": statistics.median(rates), "first_token_ms": statistics.median(firsts)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()) / "llm-bench")
    parser.add_argument("--new-tokens", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    os.environ["HF_HUB_OFFLINE"] = "1"
    project = render(args.workdir)
    models = build_models(project, args.workdir)
    settings_mod = importlib.import_module(f"{PACKAGE}.settings")
    load = importlib.import_module(f"{PACKAGE}.runtime.load")
    flags = Path("/proc/cpuinfo").read_text().split("flags")[1].split("\n")[0]
    cpu = f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, " + (
        "AVX-512 VNNI" if "avx512_vnni" in flags else "AVX2" if "avx2" in flags else "no AVX2"
    )
    print(f"CPU: {cpu}; torch threads: all; {args.new_tokens} new tokens per row")
    print(f"{'model':28} {'batch':>5} {'sampling':24} {'tokens/s':>9} {'first token ms':>15}")
    results = []
    for name, path in models.items():
        settings = settings_mod.Settings(
            model_dir=path, device="cpu", runtime="torch", max_new_tokens=args.new_tokens
        )
        predictor = load.load_predictor(settings)
        for batch in (1, 8):
            for label, options in (
                ("greedy", {}),
                ("temperature 0.7, top_p 0.9", {"temperature": 0.7, "top_p": 0.9, "seed": 1}),
            ):
                row = measure(predictor, batch, options, args.rounds)
                results.append({"model": name, "batch": batch, "sampling": label, **row})
                print(
                    f"{name:28} {batch:>5} {label:24} {row['tokens_per_s']:>9.0f} "
                    f"{row['first_token_ms']:>15.1f}",
                    flush=True,
                )
    if args.json:
        args.json.write_text(json.dumps({"cpu": cpu, "results": results}, indent=2))


if __name__ == "__main__":
    main()
