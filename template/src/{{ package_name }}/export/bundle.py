"""The edge bundle: the gated models, the tokenizer, a torch-free runner and a README.

Everything a device needs to run the model with ``pip install onnxruntime tokenizers
numpy``: no torch, no transformers, no copy of this package.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from .report import ExportReport

RUNNER_SOURCE = Path(__file__).resolve().parent.parent / "runtime" / "edge_runner.py"


def _requirements() -> str:
    import numpy
    import onnxruntime
    import tokenizers

    return (
        f"onnxruntime>={onnxruntime.__version__}\n"
        f"tokenizers>={tokenizers.__version__}\n"
        f"numpy>={numpy.__version__.split('.')[0]}\n"
    )


def _readme(report: ExportReport, files: dict[str, str | None]) -> str:
    int8_line = (
        f"`{files['int8']}`: int8 ({report.int8_scheme}), passed the parity gate and the "
        "speed guard on the export machine"
        if files.get("int8")
        else "no int8 model: the export refused it (see `report.md` for why)"
    )
    return f"""# {report.source}: edge bundle ({report.task})

Files:
- `{files["fp32"]}`: fp32 graph with fused attention, parity-checked against torch
- {int8_line}
- `tokenizer.json`, `onnx_meta.json`: tokenizer and runtime settings
- `runner.py`: the runner (onnxruntime + tokenizers + numpy, no torch)
- `report.md` / `report.json`: parity, sizes and latency measured at export

## Install and run (x86_64 and arm64)

Python 3.10+ on Linux x86_64 or aarch64 (Raspberry Pi 4/5 with a 64-bit OS, AWS Graviton,
Ampere, NVIDIA Jetson CPU), macOS arm64 or Windows: onnxruntime publishes wheels for all
of them, so the same commands work everywhere:

    python3 -m venv .venv && . .venv/bin/activate
    pip install -r requirements.txt
    python runner.py "first sentence" "second sentence"     # one JSON line per input
    python runner.py -i texts.txt --precision fp32           # a text per line

`--precision auto` (the default) uses int8 when the bundle has it.

## Check the speed on the device

The speed guard ran on the export machine. int8 speed depends on the CPU's integer
dot-product instructions (x86: AVX2/AVX-512 VNNI; arm64: ARMv8.2 `sdot`/`i8mm`, present on
Cortex-A76 and newer such as the Raspberry Pi 5, absent on the Pi 4's Cortex-A72). Time
both on the device and keep the faster one:

    python runner.py --bench

If int8 is not faster there, run with `--precision fp32`.

## Troubleshooting

- `No matching distribution found for onnxruntime`: 32-bit OS or Python older than the
  wheels; install a 64-bit OS and Python 3.10+.
- Slow first call: onnxruntime optimises the graph when the session opens; keep the
  process running and reuse it.
- `--threads N` caps CPU threads when other work shares the device.
"""


def write_bundle(export_dir: Path, bundle_dir: Path, report: ExportReport) -> Path:
    """Copy a passed export into ``bundle_dir`` with the runner and README."""
    if report.task not in ("feature-extraction", "text-classification"):
        raise ValueError(
            f"the edge bundle serves feature-extraction and text-classification, not {report.task}"
        )
    meta = json.loads((export_dir / "onnx_meta.json").read_text(encoding="utf-8"))
    files: dict[str, str | None] = meta["files"]
    bundle_dir.mkdir(parents=True, exist_ok=True)
    names = [n for n in files.values() if n] + ["tokenizer.json", "onnx_meta.json"]
    for name in [*names, "report.json", "report.md"]:
        shutil.copy2(export_dir / name, bundle_dir / name)
    shutil.copy2(RUNNER_SOURCE, bundle_dir / "runner.py")
    (bundle_dir / "requirements.txt").write_text(_requirements(), encoding="utf-8")
    (bundle_dir / "README.md").write_text(_readme(report, files), encoding="utf-8")
    return bundle_dir
