"""Cloud deploy targets: render every matrix case that deploys to SageMaker, Vertex AI or
Modal, then run the generated project's own deploy tests for its targets.

Those tests use the real SDKs against local stand-ins (a moto server for AWS, a REST
stand-in for Vertex AI, Modal's offline definitions); each says in its docstring what is
real and what is stood in. Here we also check that the generated code passes ruff.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.support.matrix import CASES, README_CASES
from tests.support.repo import run_generated_tests

CLOUD_TARGETS = ("sagemaker", "vertex", "modal")
CLOUD_CASES = [
    name
    for name, answers in CASES.items()
    if set(answers.get("deploy_targets") or []) & set(CLOUD_TARGETS)
]


def _run(project: Path, *args: str, timeout: int = 900) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(project / "src"), "HF_HUB_OFFLINE": "1"}
    for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "GOOGLE_APPLICATION_CREDENTIALS"):
        env.pop(name, None)
    return subprocess.run(
        [sys.executable, *args],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def test_the_matrix_covers_every_cloud() -> None:
    covered = {t for name in CLOUD_CASES for t in CASES[name]["deploy_targets"]}
    assert covered >= set(CLOUD_TARGETS)


@pytest.mark.parametrize("case", [c for c in CLOUD_CASES if c not in README_CASES])
def test_generated_deploy_tests_pass(case: str, render: Any) -> None:
    project = render(CASES[case])
    targets = [t for t in CLOUD_TARGETS if t in CASES[case]["deploy_targets"]]
    files = [f"tests/{target}" for target in targets]
    assert " passed" in run_generated_tests(project, *files)


@pytest.mark.parametrize("case", ["all-targets-l4", "cpu-serverless-sagemaker"])
def test_generated_cloud_code_passes_ruff(case: str, render: Any) -> None:
    project = render(CASES[case])
    package = next((project / "src").iterdir()).name
    tests = [f"tests/{t}" for t in CLOUD_TARGETS if (project / "tests" / t).is_dir()]
    paths = [f"src/{package}/deploy", *tests]
    for args in (["check", "--no-cache"], ["format", "--check", "--no-cache"]):
        done = _run(project, "-m", "ruff", *args, *paths)
        assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-1000:]
