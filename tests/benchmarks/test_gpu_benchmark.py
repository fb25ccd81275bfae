"""The GPU benchmark's two steps (benchmarks/serving/gpu.py), run here on the CPU.

No GPU is needed: ``prepare`` writes the real carry folder (the project rendered for an
H100, the packed weights, the wheels from pip's configured index, wrk), and ``run --device
cpu`` measures the generated server against its own predictor exactly as it would on a
GPU, with real wrk against the real server, only shorter.
"""

from __future__ import annotations

import importlib.metadata
import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import cast

import pytest
from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from benchmarks.serving import gpu, model_path

ROOT = Path(__file__).resolve().parents[2]
#: The device image's interpreter (CPython 3.12 on x86-64 Linux, as this machine): wheels'
#: requirements are read for it.
DEVICE_MARKERS: dict[str, str] = {
    **cast(dict[str, str], default_environment()),
    "python_version": "3.12",
    "python_full_version": "3.12.3",
    "extra": "",
}


@pytest.fixture(scope="module")
def carry(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if shutil.which("wrk") is None:
        pytest.skip("wrk is not installed (scripts/setup.sh installs it: apt-get install wrk)")
    dest = tmp_path_factory.mktemp("gpu") / "carry"
    command = gpu.prepare(dest)
    assert f"--carry {dest}" in command and "--no-index" in command, command
    return dest


def test_the_carry_fits_the_device_tool_and_holds_every_part(carry: Path) -> None:
    size = gpu.size_of(carry) + gpu.repository_size()
    assert size <= gpu.CARRY_LIMIT, f"{size / 2**20:.1f} MiB"
    wheels = {canonicalize_name(p.name.split("-")[0]) for p in (carry / "wheels").glob("*.whl")}
    assert wheels == {canonicalize_name(name) for name in gpu.WHEELS}
    for name in gpu.WHEELS:  # this venv's version of each, the one the tests ran with
        version = importlib.metadata.version(name)
        assert any(f"-{version}-" in p.name for p in (carry / "wheels").glob("*.whl")), name
    project = (carry / "project" / "src" / gpu.GENERATED_PACKAGE / "project.py").read_text()
    assert 'key="nvidia-h100-80gb"' in project and "is_gpu=True" in project
    libraries = subprocess.run(
        ["ldd", str(carry / "bin" / "wrk")],
        env={**os.environ, "LD_LIBRARY_PATH": str(carry / "lib")},
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert re.search(rf"libluajit\S* => {re.escape(str(carry / 'lib'))}/", libraries), libraries


def test_the_wheels_and_the_image_cover_what_the_server_needs(carry: Path) -> None:
    """Every dependency of the rendered project, and every requirement of every carried
    wheel (for the device's Python 3.12), is carried or in the device image."""
    available = {canonicalize_name(n) for n in (*gpu.WHEELS, *gpu.IN_IMAGE)}
    pyproject = tomllib.loads((carry / "project" / "pyproject.toml").read_text())
    needed = [Requirement(r) for r in pyproject["project"]["dependencies"]]
    for name in gpu.WHEELS:
        needed += [Requirement(r) for r in importlib.metadata.requires(name) or []]
    missing = {
        req.name
        for req in needed
        if (req.marker is None or req.marker.evaluate(DEVICE_MARKERS))
        and canonicalize_name(req.name) not in available
    }
    assert not missing, f"add to gpu.WHEELS (or IN_IMAGE, if the image has it): {missing}"


def test_packed_weights_unpack_to_the_model_in_float16(tmp_path: Path) -> None:
    import torch
    from safetensors.torch import load_file

    source = Path(model_path())
    gpu.pack_weights(source, tmp_path / "packed")
    packed_size = (tmp_path / "packed" / gpu.PACKED).stat().st_size
    assert packed_size < 0.55 * (source / "model.safetensors").stat().st_size
    model = gpu.unpack_weights(tmp_path / "packed", tmp_path / "model")
    original = load_file(str(source / "model.safetensors"))
    restored = load_file(str(model / "model.safetensors"))
    assert restored.keys() == original.keys()
    for name, tensor in original.items():
        expected = tensor.half() if tensor.is_floating_point() else tensor
        assert restored[name].dtype == expected.dtype
        assert torch.equal(restored[name], expected)
    for path in source.iterdir():
        if path.is_file() and path.name != "model.safetensors":
            assert (model / path.name).read_bytes() == path.read_bytes()


def path_without_wrk() -> str:
    """$PATH without the folders that hold a wrk (the device image has none)."""
    folders = os.environ["PATH"].split(os.pathsep)
    return os.pathsep.join(f for f in folders if not (Path(f) / "wrk").exists())


def test_run_on_a_cpu_measures_the_server_against_its_own_predictor(
    carry: Path, tmp_path: Path
) -> None:
    output = tmp_path / "results.md"
    command = [sys.executable, "-m", "benchmarks.serving.gpu", "run", "--carry", str(carry)]
    command += ["--device", "cpu", "--sizes", "1", "--concurrency", "4", "--rounds", "1"]
    command += ["--duration", "4", "--warmup", "1", "--limit-duration", "1", "--threads", "1"]
    done = subprocess.run(
        [*command, "--output", str(output)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PATH": path_without_wrk()},  # the carried wrk, as on the device
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    text = output.read_text()
    assert text.startswith("Device: CPU"), text
    cells = r"^\| 1 \| 4 \| (\d+) \((\d+)\) \| (\d+) \| \*\*([\d.]+)\*\* \| .* \| (\d+) \|$"
    row = re.search(cells, text, re.MULTILINE)
    assert row, text
    served, _, limit, ratio, errors = row.groups()
    assert int(served) > 0 and int(limit) > 0, text
    assert float(ratio) == pytest.approx(int(served) / int(limit), abs=0.02), text
    assert errors == "0", text


def test_a_folder_that_is_not_a_carry_is_neither_replaced_nor_run(tmp_path: Path) -> None:
    """``prepare --dest`` never deletes a folder it did not write (say, the repository);
    ``run`` on one stops at once, in one line."""
    keep = tmp_path / "precious.txt"
    keep.write_text("mine")
    for step, option in (("prepare", "--dest"), ("run", "--carry")):
        done = subprocess.run(
            [sys.executable, "-m", "benchmarks.serving.gpu", step, option, str(tmp_path)],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 2, done.stderr
        assert done.stderr.startswith("error: ") and "not a carry folder" in done.stderr
        assert "Traceback" not in done.stderr and len(done.stderr.strip().splitlines()) == 1
    assert keep.read_text() == "mine"
