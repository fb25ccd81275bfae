"""scripts/release_tags.py: tags from `chore(release): vX.Y.Z` commits, as a clone needs them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.repo import ROOT, git

# -I -S: isolated, no site-packages, so the script runs on a bare python3 (make tags).
SCRIPT = [sys.executable, "-I", "-S", str(ROOT / "scripts" / "release_tags.py")]
CHANGELOG = [sys.executable, str(ROOT / "scripts" / "changelog.py")]


def commit(repo: Path, message: str) -> str:
    git(repo, "commit", "-q", "--allow-empty", "-m", message)
    return git(repo, "rev-parse", "HEAD").strip()


def run(repo: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*SCRIPT, "--root", str(repo), *args], capture_output=True, text=True, check=False
    )


def tags(repo: Path) -> list[str]:
    return git(repo, "tag", "--list").split()


@pytest.fixture
def origin(tmp_path: Path) -> dict[str, str]:
    """A history with two releases and no tags, like any clone of main; shas by name."""
    repo = tmp_path / "origin"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    shas = {"start": commit(repo, "feat: first feature")}
    shas["v0.1.0"] = commit(repo, "chore(release): v0.1.0")
    commit(repo, "fix(serve): a bug")
    commit(repo, "chore(release): v0.1.1 and more")  # not a release subject
    shas["v0.1.1"] = commit(repo, "chore(release): v0.1.1")
    commit(repo, "feat: after the release")
    git(repo, "switch", "-q", "-c", "side")
    commit(repo, "chore(release): v9.9.9")  # not reachable from main
    git(repo, "switch", "-q", "main")
    return shas


@pytest.fixture
def repo(tmp_path: Path, origin: dict[str, str]) -> Path:
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", "--single-branch", str(tmp_path / "origin"), str(clone))
    assert tags(clone) == []
    return clone


def test_creates_annotated_tags_on_the_release_commits_once(
    repo: Path, origin: dict[str, str]
) -> None:
    dry = run(repo, "--dry-run")
    assert dry.returncode == 0 and "would create v0.1.0" in dry.stdout
    assert "would create v0.1.1" in dry.stdout and tags(repo) == []

    first = run(repo)
    assert first.returncode == 0, first.stderr
    assert f"created v0.1.0 {origin['v0.1.0'][:7]}" in first.stdout
    assert f"created v0.1.1 {origin['v0.1.1'][:7]}" in first.stdout
    assert tags(repo) == ["v0.1.0", "v0.1.1"]
    for tag in ("v0.1.0", "v0.1.1"):
        assert git(repo, "cat-file", "-t", tag).strip() == "tag"  # annotated
        assert git(repo, "rev-parse", f"{tag}^{{commit}}").strip() == origin[tag]

    second = run(repo)
    assert second.returncode == 0 and "created" not in second.stdout
    assert "exists  v0.1.0" in second.stdout and "no tag to create" in second.stdout
    assert tags(repo) == ["v0.1.0", "v0.1.1"]


def test_every_clone_makes_the_same_tag_objects(tmp_path: Path, repo: Path) -> None:
    other = tmp_path / "other"
    git(tmp_path, "clone", "-q", "--single-branch", str(tmp_path / "origin"), str(other))
    assert run(repo).returncode == 0 and run(other).returncode == 0
    for tag in ("v0.1.0", "v0.1.1"):
        assert git(repo, "rev-parse", tag) == git(other, "rev-parse", tag)


def test_a_tag_on_another_commit_is_a_clear_error(repo: Path, origin: dict[str, str]) -> None:
    git(repo, "tag", "v0.1.1", origin["start"])
    done = run(repo)
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert f"tag v0.1.1 points to {origin['start'][:7]}" in done.stderr
    assert origin["v0.1.1"][:7] in done.stderr
    assert tags(repo) == ["v0.1.1"]  # nothing created, nothing moved
    assert run(repo, "--dry-run").returncode == 1


def test_the_same_version_released_twice_is_an_error(repo: Path) -> None:
    commit(repo, "chore(release): v0.1.1")
    done = run(repo)
    assert done.returncode == 1 and "v0.1.1 is released twice" in done.stderr
    assert "Traceback" not in done.stderr and tags(repo) == []


def test_the_changelog_of_a_clone_has_one_section_per_release(repo: Path) -> None:
    done = subprocess.run(
        [*CHANGELOG, "--root", str(repo)], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    assert tags(repo) == ["v0.1.0", "v0.1.1"]
    text = (repo / "CHANGELOG.md").read_text()
    titles = [line.split(" (")[0] for line in text.splitlines() if line.startswith("## ")]
    assert titles == ["## Unreleased", "## v0.1.1", "## v0.1.0"]
    unreleased, v011, v010 = text.split("\n## ")[1:]
    assert "after the release" in unreleased
    assert "**serve**: a bug" in v011 and "first feature" in v010
    assert "chore(release)" not in text and "v9.9.9" not in text
