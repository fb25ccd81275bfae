"""Run the generated project's own test suite for the default answers and one set per task
(the README cases run theirs in test_readme_commands.py, in a fresh venv)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.matrix import CASES, GENERATED_SUITES, README_CASES
from tests.support.repo import run_generated_tests


@pytest.mark.parametrize("case", [c for c in GENERATED_SUITES if c not in README_CASES])
def test_generated_suite_passes(case: str, render: Any) -> None:
    assert " passed" in run_generated_tests(render(CASES[case]))
