"""scripts/roll_update.py rolls a template release out to several repositories.

The "remotes" are local bare repositories, so cloning and pushing are real git. Opening
pull requests (``--open-pr``, the GitHub CLI) needs GitHub: the tests run with ``gh`` off
the PATH, which is the failure the script must survive (it pushes the branches, says once
that no pull requests are opened, and a rerun sees the branches as pending).
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

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


def path_without_gh(tmp_path: Path) -> str:
    """The PATH, minus any ``gh``: its directories' other programs linked into one folder."""
    path = os.environ.get("PATH", "")
    if shutil.which("gh") is None:
        return path
    farm = tmp_path / "bin-without-gh"
    farm.mkdir(exist_ok=True)
    for folder in reversed(path.split(os.pathsep)):
        for program in Path(folder).glob("*") if Path(folder).is_dir() else []:
            link = farm / program.name
            if program.name != "gh" and not link.exists():
                link.symlink_to(program)
    return str(farm)


def roll(repos: Path, tmp_path: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    """Run the script as the docs show, with no ``gh`` on the PATH."""
    return subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "roll_update.py"), str(repos), *extra],
        env={**os.environ, **GIT_ENV, "PATH": path_without_gh(tmp_path)},
        capture_output=True,
        text=True,
        timeout=900,
    )


def report(path: Path) -> dict[str, dict[str, Any]]:
    return {row["repo"]: row for row in json.loads(path.read_text())}


def test_rolls_out_to_six_repositories_with_one_broken_and_no_gh(
    two_releases: Path, tmp_path: Path
) -> None:
    remotes = tmp_path / "remotes"
    remotes.mkdir()
    clean = [copy_at(two_releases, "v0.1.0", tmp_path / f"clean{n}") for n in range(3)]
    edited = copy_at(two_releases, "v0.1.0", tmp_path / "edited")
    config_py = edited / "src" / PKG / "settings.py"
    edit(config_py, NEW_TOKENS_V1, NEW_TOKENS_V1.replace("Field(64,", "Field(128,"))
    git(edited, "commit", "-q", "-am", "user: longer generations")
    current = copy_at(two_releases, "v0.2.0", tmp_path / "current")
    broken = copy_at(two_releases, "v0.1.0", tmp_path / "broken")
    git(broken, "rm", "-q", ".copier-answers.yml")
    git(broken, "commit", "-q", "-m", "user: lost the answers file")
    urls = [published(p, remotes) for p in (*clean, edited, current, broken)]
    repos = tmp_path / "repos.txt"
    repos.write_text("# the organisation's services\n" + "\n".join(urls) + "\n")
    org = tmp_path / "org.yml"
    org.write_text(yaml.safe_dump({"image_registry": "ghcr.io/acme", "gcp_project": "acme-ml"}))
    args = ["--workdir", str(tmp_path / "work"), "--data-file", str(org), "--jobs", "3"]
    args += ["--push", "--open-pr", "--report", str(tmp_path / "report.json")]

    done = roll(repos, tmp_path, *args)

    assert done.returncode == 1, "the broken repository counts as a failure"
    assert done.stderr.count("gh (the GitHub CLI) is not on PATH") == 1, done.stderr
    table = done.stdout.split("\nrepository")[1]
    assert all(url in table for url in urls), "the summary names every repository"
    rows = report(tmp_path / "report.json")
    assert [rows[u]["status"] for u in urls] == [
        *["updated"] * 3,
        "conflicts (1)",
        "up to date",
        "failed",
    ]
    assert all(rows[u]["after"] == "v0.2.0" for u in urls[:4])
    assert (
        "lacks _src_path" in rows[urls[5]]["detail"]
        or "no .copier-answers" in rows[urls[5]]["detail"]
    )
    assert f"src/{PKG}/settings.py" in rows[urls[3]]["detail"]
    assert rows[urls[0]]["branch"] == "template-update/v0.2.0 (pushed)"
    assert rows[urls[0]]["pull_request"] == "not opened: gh missing"
    assert "not recorded: gcp_project" in rows[urls[0]]["detail"], "a conditional default"

    branch = "template-update/v0.2.0"
    for url, expect_branch in zip(urls, [True] * 4 + [False] * 2, strict=True):
        heads = git(Path(url), "branch", "--list", branch)
        assert bool(heads.strip()) == expect_branch, url
    recorded = yaml.safe_load(git(Path(urls[0]), "show", f"{branch}:.copier-answers.yml"))
    assert recorded["_commit"] == "v0.2.0"
    assert recorded["image_registry"] == "ghcr.io/acme", "the organisation's data file applies"
    assert "Field(96," in (two_releases / CONFIG_JINJA).read_text()
    conflicted = git(Path(urls[3]), "show", f"{branch}:src/{PKG}/settings.py")
    assert "<<<<<<< before updating" in conflicted
    assert git(Path(urls[0]), "log", "-1", "--format=%s", branch).startswith(
        "chore: update template from v0.1.0 to v0.2.0"
    )

    again = roll(repos, tmp_path, *args)

    rows = report(tmp_path / "report.json")
    assert [rows[u]["status"] for u in urls] == [
        *["pending"] * 4,
        "up to date",
        "failed",
    ], again.stdout
    assert rows[urls[0]]["branch"] == branch


def test_a_missing_repository_is_reported_and_the_rest_still_run(
    two_releases: Path, tmp_path: Path
) -> None:
    remotes = tmp_path / "remotes"
    remotes.mkdir()
    url = published(copy_at(two_releases, "v0.1.0", tmp_path / "one"), remotes)
    repos = tmp_path / "repos.txt"
    repos.write_text(f"/nowhere/repo.git\n{url}\n")
    done = roll(repos, tmp_path, "--workdir", str(tmp_path / "work"))
    assert done.returncode == 1
    lines = done.stdout.split("\nrepository")[1].splitlines()
    assert any("/nowhere/repo.git" in line and "failed" in line for line in lines)
    assert any(url in line and "updated" in line for line in lines)


def _script() -> Any:
    spec = importlib.util.spec_from_file_location(
        "roll_update", ROOT / "scripts" / "roll_update.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["roll_update"] = module  # dataclasses look their module up while defining
    spec.loader.exec_module(module)
    return module


def test_renamed_keys_in_the_data_file_are_migrated_with_a_warning() -> None:
    migrate = _script().migrate_data
    data, notes = migrate({"gpu": "nvidia-l4", "image_registry": "ghcr.io/acme"})
    assert data == {"accelerator": "nvidia-l4", "image_registry": "ghcr.io/acme"}
    assert notes == ["gpu was renamed accelerator by a template migration: used as accelerator"]
    data, notes = migrate({"gpu_count": 2, "accelerator_count": 4})
    assert data == {"accelerator_count": 4} and "gpu_count ignored" in notes[0]
