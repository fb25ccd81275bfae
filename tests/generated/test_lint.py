"""Every render is lint-clean under its own configuration (the generated pyproject.toml).

Like copier-uv's template test: render a case, ``git init`` and commit it, run the generated
``make format`` and fail if it changed anything; then fail on any finding of ``ruff check``,
``ruff format --check`` and (strict) ``mypy``.

ruff runs on every case of the answer matrix (it takes a second). mypy runs on
``MYPY_CASES`` only, one render per distinct code path: each task, each runtime, each deploy
target, Kueue, and no target at all. A cold mypy cache costs about a minute (torch and
transformers are large), so all renders share one cache directory per test session
(``MYPY_CACHE_DIR``) and later renders take seconds.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.support.matrix import CASES
from tests.support.repo import git

#: one render per code path: every task, runtime, target, Kueue and "no target".
MYPY_CASES = [
    "default",
    "cpu-classification",
    "cpu-generation",
    "edge-onnxruntime",
    "h100-x8-kueue",
    "all-targets-l4",
    "local-model-no-targets",
]

#: answers outside the matrix that stress line lengths (free text lands in Python files).
LINT_ONLY_CASES: dict[str, dict[str, Any]] = {
    "long-free-text": {
        "project_name": "Customer Support Ticket Routing Embedding Service",
        "description": (
            "Serves a sentence embedding model that routes customer support tickets to the "
            "right queue and ranks them by urgency, for the operations team's dashboards"
        ),
    },
}


@pytest.fixture(scope="session")
def tool_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Environment for the generated Makefile: our interpreter, shared caches outside the render."""
    caches = tmp_path_factory.mktemp("lint-caches")
    return {
        **os.environ,
        "MYPY_CACHE_DIR": str(caches / "mypy"),
        "RUFF_CACHE_DIR": str(caches / "ruff"),
        "PYTHONDONTWRITEBYTECODE": "1",
    }


def _committed_copy(project: Path, dst: Path) -> Path:
    """A private, committed copy of a (shared, cached) render, so formatting cannot leak."""
    shutil.copytree(project, dst, ignore=shutil.ignore_patterns(".git"))
    git(dst, "init", "-q", "-b", "main")
    git(dst, "add", "-A")
    git(dst, "commit", "-q", "-m", "render")
    return dst


def _make(project: Path, target: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["make", "--no-print-directory", target, f"PYTHON={sys.executable}"],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


@pytest.mark.parametrize("case", [*CASES, *LINT_ONLY_CASES])
def test_render_is_formatted_and_lint_clean(
    case: str, render: Any, tmp_path: Path, tool_env: dict[str, str]
) -> None:
    answers = CASES[case] if case in CASES else LINT_ONLY_CASES[case]
    project = _committed_copy(render(answers), tmp_path / "project")

    formatted = _make(project, "format", tool_env)
    changed = git(project, "status", "--porcelain")
    assert not changed, (
        f"`make format` changed the render of {case!r}; fix the template source:\n"
        f"{changed}\n{git(project, 'diff')[:6000]}\n{formatted.stdout[-3000:]}"
    )

    for command in (
        ["ruff", "check", "src", "tests"],
        ["ruff", "format", "--check", "src", "tests"],
    ):
        done = subprocess.run(
            [sys.executable, "-m", *command],
            cwd=project,
            env=tool_env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert done.returncode == 0, f"{' '.join(command)} on {case!r}:\n{done.stdout}{done.stderr}"


@pytest.mark.parametrize("case", MYPY_CASES)
def test_render_passes_the_generated_make_lint(
    case: str, render: Any, tmp_path: Path, tool_env: dict[str, str]
) -> None:
    """The generated ``make lint``: ruff check, ruff format --check and strict mypy."""
    project = _committed_copy(render(CASES[case]), tmp_path / "project")
    done = _make(project, "lint", tool_env)
    assert done.returncode == 0, f"`make lint` on {case!r}:\n{done.stdout[-6000:]}{done.stderr}"


def test_mypy_cases_are_matrix_cases() -> None:
    assert set(MYPY_CASES) <= set(CASES)


def test_pre_commit_hooks_pass_on_a_fresh_render(
    render: Any, tmp_path: Path, tool_env: dict[str, str]
) -> None:
    """The generated .pre-commit-config.yaml runs offline (local hooks) and passes as rendered.

    A hook that rewrites a file (trailing whitespace, end of file, ruff) fails pre-commit, so
    this also proves the render needs no fixing. Needs pre-commit-hooks (requirements/dev.in).
    """
    bin_dir = str(Path(sys.executable).parent)
    env = {**tool_env, "PATH": f"{bin_dir}{os.pathsep}{tool_env['PATH']}"}
    env["PRE_COMMIT_HOME"] = str(tmp_path / "pre-commit-home")
    assert shutil.which("check-yaml", path=env["PATH"]), (
        "pre-commit-hooks is not installed: run scripts/setup.sh (requirements/dev.in lists it)"
    )
    project = _committed_copy(render(CASES["all-targets-l4"]), tmp_path / "project")
    done = subprocess.run(
        [sys.executable, "-m", "pre_commit", "run", "--all-files", "--show-diff-on-failure"],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-2000:]
    for hook in ("check yaml", "ruff check", "ruff format", "mypy (strict)"):
        assert re.search(rf"^{re.escape(hook)}\.+Passed$", done.stdout, re.M), done.stdout


def test_pre_commit_refuses_a_copier_conflict_marker(
    render: Any, tmp_path: Path, tool_env: dict[str, str]
) -> None:
    """A file left with copier's inline conflict markers cannot be committed."""
    bin_dir = str(Path(sys.executable).parent)
    env = {**tool_env, "PATH": f"{bin_dir}{os.pathsep}{tool_env['PATH']}"}
    env["PRE_COMMIT_HOME"] = str(tmp_path / "pre-commit-home")
    project = _committed_copy(render(CASES["default"]), tmp_path / "project")
    readme = project / "README.md"
    readme.write_text(
        readme.read_text(encoding="utf-8")
        + "<<<<<<< before updating\nmine\n=======\ntheirs\n>>>>>>> after updating\n",
        encoding="utf-8",
    )
    done = subprocess.run(
        [sys.executable, "-m", "pre_commit", "run", "check-merge-conflict", "--files", "README.md"],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode != 0
    assert "Merge conflict string" in done.stdout, done.stdout
