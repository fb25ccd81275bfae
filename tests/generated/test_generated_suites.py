"""Run the generated project's own test suite for the default answers and one set per task."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.matrix import CASES, GENERATED_SUITES
from tests.support.repo import run_generated_tests


@pytest.mark.parametrize("case", GENERATED_SUITES)
def test_generated_suite_passes(case: str, render: Any) -> None:
    assert " passed" in run_generated_tests(render(CASES[case]))
