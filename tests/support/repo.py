"""The template repository as tests see it: git, snapshots of the working tree, renders.

``snapshot_template`` copies the working tree (tracked and untracked-but-not-ignored
files) into a temporary git repository and commits it, so tests render what is on disk
(not only what is committed) and update tests can tag versions of it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]

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
