"""The template's own Python (extensions, hooks, scripts, tests) is lint- and type-clean."""

from __future__ import annotations

import subprocess
import sys

from tests.support.repo import ROOT

PATHS = ["extensions", "hooks", "scripts", "tests", "benchmarks"]


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    present = [p for p in PATHS if (ROOT / p).exists()]
    return subprocess.run(
        [sys.executable, "-m", *args, *present], cwd=ROOT, capture_output=True, text=True
    )


def test_ruff_check_is_clean() -> None:
    done = _run("ruff", "check")
    assert done.returncode == 0, done.stdout + done.stderr


def test_ruff_format_is_clean() -> None:
    done = _run("ruff", "format", "--check")
    assert done.returncode == 0, done.stdout + done.stderr


def test_mypy_is_clean() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "mypy", "extensions", "hooks"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout + done.stderr
