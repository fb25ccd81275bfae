"""Fixtures shared by the template tests.

``template_snapshot`` copies the working tree (tracked and untracked-but-not-ignored
files) into a temporary git repository and commits it, so tests render what is on disk
(not only what is committed) and update tests can tag versions of it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

GIT_ENV = {
    "GIT_AUTHOR_NAME": "template-tests",
    "GIT_AUTHOR_EMAIL": "tests@example.invalid",
    "GIT_COMMITTER_NAME": "template-tests",
    "GIT_COMMITTER_EMAIL": "tests@example.invalid",
}


def git(cwd: Path, *args: str) -> str:
    env = {**os.environ, **GIT_ENV}
    done = subprocess.run(
        ["git", *args], cwd=cwd, env=env, check=True, capture_output=True, text=True
    )
    return done.stdout


def tracked_files(root: Path) -> list[str]:
    out = git(root, "ls-files", "--cached", "--others", "--exclude-standard", "-z")
    return [name for name in out.split("\0") if name and (root / name).is_file()]


def render_answers(template: Path, dst: Path, answers: dict[str, Any] | None = None) -> Path:
    """``copier copy`` of a template snapshot into ``dst``: the answers on top of the defaults."""
    import copier

    copier.run_copy(
        str(template),
        str(dst),
        data=answers or {},
        defaults=True,
        unsafe=True,
        vcs_ref="HEAD",
        quiet=True,
    )
    return dst


def snapshot_template(dst: Path) -> Path:
    """Copy the template's working tree into ``dst`` as a fresh one-commit git repo."""
    for name in tracked_files(ROOT):
        target = dst / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, target)
    git(dst, "init", "-q", "-b", "main")
    git(dst, "add", "-A")
    git(dst, "commit", "-q", "-m", "snapshot")
    return dst


@pytest.fixture(scope="session")
def template_snapshot(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return snapshot_template(tmp_path_factory.mktemp("template"))


@pytest.fixture(scope="session")
def render(
    template_snapshot: Path, tmp_path_factory: pytest.TempPathFactory
) -> Callable[[dict[str, Any]], Path]:
    """Render answers on top of the defaults (cached per answer set); return the project dir."""
    cache: dict[str, Path] = {}

    def _render(answers: dict[str, Any]) -> Path:
        key = repr(sorted(answers.items()))
        if key not in cache:
            cache[key] = render_answers(
                template_snapshot, tmp_path_factory.mktemp("render"), answers
            )
        return cache[key]

    return _render


@pytest.fixture(scope="session")
def copier_questions() -> dict[str, Any]:
    import yaml

    data = yaml.safe_load((ROOT / "copier.yml").read_text(encoding="utf-8"))
    return {k: v for k, v in data.items() if not k.startswith("_")}


def run_generated_tests(project: Path, *args: str, timeout: int = 900) -> str:
    """Run a rendered project's own pytest suite offline; fail with its output; return stdout.

    The suite runs in a copy: it writes artifacts (exports, archives, caches) that must not
    leak into the shared, cached render other tests inspect.
    """
    import tempfile

    workdir = Path(tempfile.mkdtemp(prefix="generated-suite-")) / project.name
    shutil.copytree(project, workdir)
    project = workdir
    env = {**os.environ, "PYTHONPATH": str(project / "src"), "HF_HUB_OFFLINE": "1"}
    for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "GOOGLE_APPLICATION_CREDENTIALS"):
        env.pop(name, None)  # never let a developer's cloud credentials reach the tests
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-x", *args],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    return done.stdout
