"""scripts/roll_update.py rolls a template release out to several repositories.

The "remotes" are local bare repositories, so cloning and pushing are real git; opening
pull requests (``--open-pr``, the GitHub CLI) needs GitHub and is not exercised here.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import yaml

from tests.lifecycle.test_update import (
    CONFIG_JINJA,
    NEW_TOKENS_V1,
    PKG,
    copy_at,
    edit,
    two_releases,
)
from tests.support.repo import GIT_ENV, ROOT, git

__all__ = ["two_releases"]  # the module-scoped fixture, shared with test_update


def published(project: Path, remotes: Path) -> str:
    """Push ``project`` to a new bare repository under ``remotes``; return its URL."""
    bare = remotes / f"{project.name}.git"
    subprocess.run(["git", "init", "-q", "--bare", str(bare)], check=True)
    git(project, "push", "-q", str(bare), "main")
    git(bare, "symbolic-ref", "HEAD", "refs/heads/main")
    return str(bare)


def test_rolls_out_to_every_repository_and_reports_each(two_releases: Path, tmp_path: Path) -> None:
    remotes = tmp_path / "remotes"
    remotes.mkdir()
    clean = copy_at(two_releases, "v0.1.0", tmp_path / "clean")
    edited = copy_at(two_releases, "v0.1.0", tmp_path / "edited")
    config_py = edited / "src" / PKG / "settings.py"
    edit(config_py, NEW_TOKENS_V1, NEW_TOKENS_V1.replace("Field(64,", "Field(128,"))
    git(edited, "commit", "-q", "-am", "user: longer generations")
    current = copy_at(two_releases, "v0.2.0", tmp_path / "current")
    urls = [published(p, remotes) for p in (clean, edited, current)]
    repos = tmp_path / "repos.txt"
    repos.write_text("# the organisation's services\n" + "\n".join(urls) + "\n/nowhere/repo.git\n")
    org = tmp_path / "org.yml"
    org.write_text(yaml.safe_dump({"image_registry": "ghcr.io/acme"}))

    done = subprocess.run(
        [
            sys.executable,
            str(ROOT / "scripts" / "roll_update.py"),
            str(repos),
            "--workdir",
            str(tmp_path / "work"),
            "--data-file",
            str(org),
            "--push",
        ],
        env={**os.environ, **GIT_ENV},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 1, "the missing repository counts as a failure"
    summary = done.stdout.split("\nrepository")[1]
    lines = {line.split()[0]: line for line in summary.splitlines()[1:] if line.strip()}
    assert "v0.1.0       v0.2.0       updated" in lines[urls[0]]
    assert "conflicts (1)" in lines[urls[1]] and f"src/{PKG}/settings.py" in lines[urls[1]]
    assert "up to date" in lines[urls[2]]
    assert "failed" in lines["/nowhere/repo.git"]

    branch = "template-update/v0.2.0"
    for url, expect_branch in zip(urls, [True, True, False], strict=True):
        heads = git(Path(url), "branch", "--list", branch)
        assert bool(heads.strip()) == expect_branch, url
    pushed = git(Path(urls[0]), "show", f"{branch}:.copier-answers.yml")
    recorded = yaml.safe_load(pushed)
    assert recorded["_commit"] == "v0.2.0"
    assert recorded["image_registry"] == "ghcr.io/acme", "the organisation's data file applies"
    template_config = (two_releases / CONFIG_JINJA).read_text()
    assert "Field(96," in template_config
    conflicted = git(Path(urls[1]), "show", f"{branch}:src/{PKG}/settings.py")
    assert "<<<<<<< before updating" in conflicted
    assert git(Path(urls[0]), "log", "-1", "--format=%s", branch).startswith(
        "chore: update template from v0.1.0 to v0.2.0"
    )
