"""The generated server on a GPU: sentences/s against the in-process limit on that GPU.

Two steps, because the GPU machine (lent through the ``device`` tool) reaches no network,
holds at most 64 MiB of carried files, and has torch but no FastAPI stack:

    .venv/bin/python -m benchmarks.serving.gpu prepare     # here, once: writes .gpu/
    # there, in one call that carries .gpu (``prepare`` prints the whole command):
    python3 -m pip install -q --no-index --no-deps --no-compile --target /tmp/site \\
        .gpu/wheels/*.whl && PYTHONPATH=/tmp/site python3 -m benchmarks.serving.gpu run

``prepare`` writes the template rendered for an NVIDIA H100 (every other answer a default:
all-MiniLM-L6-v2), the server's Python dependencies that the GPU image lacks or holds in
other versions (cp312 wheels of the versions in this venv), the weights in float16 and
zlib-compressed (float32 would not fit), and wrk with its LuaJIT.

``run`` unpacks the weights, then for each request size and concurrency, in rounds: the
in-process limit of the server's own predictor on the device (real text, batches of
MAX_BATCH sorted by length: limits.py's (s)), then the server (its defaults for that GPU)
under wrk, closed loop, the same real-text requests and steady rate as
``python -m benchmarks.serving``. It prints a markdown table (sentences/s, x limit, p50,
p99, errors) and writes it to ``$OUT/gpu-results.md``, the server's and the limit's logs
beside it (the device tool brings ``$OUT`` back). ``--device cpu`` runs the same steps
on a CPU (what tests/benchmarks/test_gpu_benchmark.py does).
"""

from __future__ import annotations

import argparse
import importlib.metadata
import math
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import zlib
from contextlib import ExitStack
from pathlib import Path

from . import MAX_BATCH, ROOT, model_path
from .__main__ import lua_for
from .limits import Limit
from .load import WrkMissing, measure, wrk_path
from .report import Cell, median_cell
from .servers import GENERATED_PACKAGE, free_port, generated_spec, render_generated, running

CARRY = ROOT / ".gpu"
ACCELERATOR = "nvidia-h100-80gb"  # the answer the project is rendered with
#: What the server imports that the GPU image lacks, or holds in a version the project does
#: not take (transformers 5, huggingface-hub 1): carried at this venv's versions. The rest
#: (torch, safetensors, numpy, anyio, typer, rich, pyyaml, prometheus-client, uvloop) is in
#: the image (/work/.library/device/KINDS.md).
WHEELS = (
    "transformers",
    "tokenizers",
    "huggingface-hub",
    "fastapi",
    "starlette",
    "uvicorn",
    "httptools",
    "pydantic",
    "pydantic-core",
    "pydantic-settings",
    "python-dotenv",
    "typing-inspection",
    "orjson",
    "opentelemetry-api",
)
IN_IMAGE = frozenset(
    {
        *("torch", "safetensors", "numpy", "anyio", "typer", "rich", "pyyaml", "tqdm", "click"),
        *("prometheus-client", "uvloop", "annotated-doc", "annotated-types", "hf-xet", "h11"),
        *("typing-extensions", "filelock", "fsspec", "packaging", "regex", "requests", "idna"),
        "sniffio",
    }
)
PLATFORMS = (
    *("manylinux_2_28_x86_64", "manylinux_2_17_x86_64", "manylinux2014_x86_64"),
    *("manylinux_2_5_x86_64", "manylinux1_x86_64"),
)
CARRY_LIMIT = 64 * 2**20  # the device tool's whole working tree, this folder included
PACKED = "model.safetensors.f16.zlib"
MARK = "CARRY"  # the file that says a folder is a carry folder prepare may replace


class Problem(Exception):
    """What stops a step, said in one line (``main`` prints it, no traceback)."""


def copy_files(source: Path, dest: Path, but: str) -> None:
    """The files directly in ``source``, all but the one named ``but``, into ``dest``."""
    dest.mkdir(parents=True, exist_ok=True)
    for path in source.iterdir():
        if path.is_file() and path.name != but:
            shutil.copy2(path, dest / path.name)


def pack_weights(source: Path, dest: Path) -> None:
    """The model directory ``source`` into ``dest``: every file as it is, but the weights in
    float16, zlib-compressed (``PACKED``)."""
    from safetensors.torch import load_file, save

    copy_files(source, dest, but="model.safetensors")
    tensors = load_file(str(source / "model.safetensors"))
    half = {
        name: t.half().contiguous() if t.is_floating_point() else t for name, t in tensors.items()
    }
    (dest / PACKED).write_bytes(zlib.compress(save(half), 6))


def unpack_weights(packed: Path, dest: Path) -> Path:
    """``pack_weights``'s output into a model directory transformers loads; returns it."""
    copy_files(packed, dest, but=PACKED)
    (dest / "model.safetensors").write_bytes(zlib.decompress((packed / PACKED).read_bytes()))
    return dest


def download_wheels(dest: Path) -> None:
    """The cp312 wheels of ``WHEELS`` at this venv's versions (pip, its configured index)."""
    dest.mkdir(parents=True, exist_ok=True)
    pins = [f"{name}=={importlib.metadata.version(name)}" for name in WHEELS]
    command = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:"]
    command += ["--python-version", "3.12", "--implementation", "cp", "-d", str(dest), "-q"]
    for platform in PLATFORMS:
        command += ["--platform", platform]
    subprocess.run([*command, *pins], check=True)


def copy_wrk(dest: Path) -> None:
    """wrk and the LuaJIT library it links (the GPU image has neither) into dest/bin, lib."""
    wrk = wrk_path()
    (dest / "bin").mkdir(parents=True, exist_ok=True)
    (dest / "lib").mkdir(parents=True, exist_ok=True)
    shutil.copy2(wrk, dest / "bin" / "wrk")
    linked = subprocess.run(["ldd", wrk], capture_output=True, text=True, check=True).stdout
    for line in linked.splitlines():
        if "luajit" in line and "=>" in line:
            library = Path(line.split("=>")[1].split("(")[0].strip())
            shutil.copy2(library, dest / "lib" / library.name)


def render_project(dest: Path) -> Path:
    """The template (working tree) rendered for ``ACCELERATOR`` into dest/project (without
    the template snapshot the rendering needs)."""
    with tempfile.TemporaryDirectory() as tmp:
        project, _ = render_generated(Path(tmp), {"accelerator": ACCELERATOR})
        return Path(shutil.copytree(project, dest / "project"))


def size_of(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def repository_size() -> int:
    """What the device tool sends of the repository itself: tracked files and untracked
    ones git does not ignore."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout
    paths = [ROOT / name for name in listed.decode().split("\0") if name]
    return sum(path.stat().st_size for path in paths if path.is_file())


def prepare(dest: Path) -> str:
    """Write the carry folder ``dest`` (replacing one an earlier ``prepare`` wrote); returns
    the command to run on the device."""
    if dest.exists():
        if not (dest / MARK).exists():
            raise Problem(f"{dest} exists and is not a carry folder: pass another --dest")
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    (dest / MARK).write_text("written by python -m benchmarks.serving.gpu prepare\n")
    render_project(dest)
    pack_weights(Path(model_path()), dest / "model")
    copy_wrk(dest)
    download_wheels(dest / "wheels")
    name = dest.relative_to(ROOT) if dest.is_relative_to(ROOT) else dest
    size = size_of(dest) + repository_size()  # the repository's own files travel too
    if size > CARRY_LIMIT:
        raise Problem(f"{dest} and the repository hold {size / 2**20:.1f} MiB: over 64 MiB")
    install = "python3 -m pip install -q --no-index --no-deps --no-compile --target /tmp/site"
    return (
        f"{dest}: {size / 2**20:.1f} MiB with the repository. On the device (carry: ['{name}']):\n"
        f"{install} {name}/wheels/*.whl && PYTHONUNBUFFERED=1 PYTHONPATH=/tmp/site "
        f"python3 -m benchmarks.serving.gpu run --carry {name}"
    )


def device_name(device: str) -> str:
    import torch

    if device == "cuda":
        return f"{torch.cuda.get_device_name(0)}, torch {torch.__version__}"
    return f"CPU ({os.cpu_count()} cores), torch {torch.__version__}"


def run(args: argparse.Namespace) -> str:
    """Measure every cell; returns the markdown report."""
    carry = args.carry.resolve()
    os.environ["PATH"] = f"{carry / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}"
    os.environ["LD_LIBRARY_PATH"] = os.pathsep.join(
        [str(carry / "lib"), os.environ.get("LD_LIBRARY_PATH", "")]
    )
    os.environ["BENCH_DEVICE"] = args.device  # the limit's predictor (limits.server_models)
    sizes = [int(s) for s in args.sizes.split(",")]
    concurrencies = [int(c) for c in args.concurrency.split(",")]
    rows = []
    with tempfile.TemporaryDirectory(prefix="gpu-bench-") as tmp, ExitStack() as stack:
        work = Path(tmp)
        model_dir = unpack_weights(carry / "model", work / "model")
        project = carry / "project"
        spec = generated_spec(project, str(model_dir), args.threads, os.environ, args.device)
        own = (project / "src", GENERATED_PACKAGE)
        logs = args.logs or work
        logs.mkdir(parents=True, exist_ok=True)
        limit = Limit(str(model_dir), 1, args.threads, logs / "limit.log", own)
        stack.callback(limit.close)
        port = free_port()
        log = logs / "server.log"
        server = stack.enter_context(
            running(spec.cmd(port), spec.env, project, port, "/ready", log)
        )
        device = device_name(args.device)
        print(f"{device}: the server is ready", flush=True)
        for size in sizes:
            script = lua_for(work, spec, size, "real")
            for concurrency in concurrencies:
                limits, cells = [], []
                for _ in range(args.rounds):
                    server.pause()
                    limits.append(limit.measure(size, args.limit_duration, "real", "sorted"))
                    server.resume()
                    cells.append(
                        measure(
                            "generated",
                            port,
                            script,
                            size,
                            concurrency,
                            args.duration,
                            args.warmup,
                            server.settle,
                        )
                    )
                rows.append((size, concurrency, statistics.median(limits), cells))
                print(row_line(rows[-1]), flush=True)
        return report(device, rows, args)


def row_line(row: tuple[int, int, float, list[Cell]]) -> str:
    size, concurrency, limit, cells = row
    cell = median_cell(cells)
    ratio = cell.sentences_per_s / limit if limit else math.nan
    return (
        f"| {size} | {concurrency} | {cell.sentences_per_s:.0f} ({cell.whole_run_per_s:.0f}) "
        f"| {limit:.0f} | **{ratio:.2f}** | {cell.p50_ms:.0f} | {cell.p99_ms:.0f} "
        f"| {sum(c.errors for c in cells)} |"
    )


def report(
    device: str, rows: list[tuple[int, int, float, list[Cell]]], args: argparse.Namespace
) -> str:
    head = (
        f"Device: {device}. Real-length text (benchmarks/serving/corpus.py), closed loop "
        f"(wrk), {args.rounds} round(s) of {args.duration:g} s after {args.warmup:g} s of "
        f"warm-up; the limit (s): the server's own predictor on the device, batches of "
        f"{MAX_BATCH} sorted by length, {args.limit_duration:g} s beside each round; "
        f"medians of the rounds; sentences/s steady (whole run).\n\n"
        "| sentences/request | concurrency | generated, sentences/s | limit (s) | x limit "
        "| p50 ms | p99 ms | errors |\n|---:|---:|---:|---:|---:|---:|---:|---:|"
    )
    return "\n".join([head, *(row_line(row) for row in rows)])


def check_run(args: argparse.Namespace) -> None:
    """What ``run`` needs, checked before minutes of start-up."""
    if not (args.carry / MARK).exists():
        raise Problem(
            f"{args.carry} is not a carry folder: run `python -m benchmarks.serving.gpu "
            "prepare` here, then name the folder in the device call's carry"
        )
    if args.device == "cuda":
        import torch

        if not torch.cuda.is_available():
            raise Problem("no CUDA device here: run on the GPU machine, or pass --device cpu")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.serving.gpu", description=(__doc__ or "").split("\n\n")[0]
    )
    steps = parser.add_subparsers(dest="step", required=True)
    ready = steps.add_parser("prepare", help="here: write the carry folder")
    ready.add_argument("--dest", type=Path, default=CARRY)
    measured = steps.add_parser("run", help="on the device: measure")
    measured.add_argument("--carry", type=Path, default=CARRY)
    measured.add_argument("--device", choices=("cuda", "cpu"), default="cuda")
    measured.add_argument("--sizes", default="1,16")
    measured.add_argument("--concurrency", default="32,64")
    measured.add_argument("--rounds", type=int, default=2)
    measured.add_argument("--duration", type=float, default=12.0, help="seconds per round")
    measured.add_argument("--warmup", type=float, default=2.0)
    measured.add_argument("--limit-duration", type=float, default=5.0)
    measured.add_argument("--threads", type=int, default=min(8, os.cpu_count() or 1))
    measured.add_argument("--output", type=Path, default=None, help="default: $OUT/gpu-results.md")
    measured.add_argument(
        "--logs", type=Path, default=None, help="the server's and the limit's logs (default: $OUT)"
    )
    args = parser.parse_args(argv)
    if getattr(args, "logs", None) is None and "OUT" in os.environ:
        args.logs = Path(os.environ["OUT"])  # the device tool brings $OUT back
    try:
        if args.step == "prepare":
            print(prepare(args.dest.resolve()))
            return 0
        check_run(args)
        text = run(args)
    except (Problem, WrkMissing, RuntimeError, subprocess.CalledProcessError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(text)
    output = args.output or (
        Path(os.environ["OUT"]) / "gpu-results.md" if "OUT" in os.environ else None
    )
    if output:
        output.write_text(text + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
