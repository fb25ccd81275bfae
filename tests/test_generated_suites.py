"""Run the generated project's own test suite for the default answers and one set per task."""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Any

import pytest

from .matrix import CASES, GENERATED_SUITES


@pytest.mark.parametrize("case", GENERATED_SUITES)
def test_generated_suite_passes(case: str, render: Any) -> None:
    project = render(CASES[case])
    env = {**os.environ, "PYTHONPATH": str(project / "src"), "HF_HUB_OFFLINE": "1"}
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-x"],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert " passed" in done.stdout
