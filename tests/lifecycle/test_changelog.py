"""scripts/changelog.py: CHANGELOG.md from conventional commits, and the next version."""

from __future__ import annotations

import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from tests.support.repo import ROOT, git

SCRIPT = [sys.executable, str(ROOT / "scripts" / "changelog.py")]


def commit(repo: Path, message: str) -> None:
    git(repo, "commit", "-q", "--allow-empty", "-m", message)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    git(tmp_path, "init", "-q", "-b", "main")
    commit(tmp_path, "feat: first feature")
    commit(tmp_path, "fix(serve): a bug")
    commit(tmp_path, "test: more tests")  # hidden type
    git(tmp_path, "tag", "v0.1.0")
    commit(tmp_path, "feat(k8s)!: rename the overlay")
    commit(tmp_path, "docs: a guide")
    commit(tmp_path, "perf: faster\n\nBREAKING CHANGE: the batch limit is in tokens now")
    commit(tmp_path, "Quick fix without a type")
    git(tmp_path, "tag", "not-a-version")
    return tmp_path


def run(repo: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*SCRIPT, "--root", str(repo), *args], capture_output=True, text=True, check=False
    )


def test_sections_per_release_and_type(repo: Path) -> None:
    assert run(repo).returncode == 0
    text = (repo / "CHANGELOG.md").read_text()
    unreleased, released = text.split("## v0.1.0 (")
    assert "## Unreleased" in unreleased
    breaking = unreleased.split("### Breaking changes")[1].split("###")[0]
    assert "**k8s**: rename the overlay" in breaking and "faster" in breaking
    assert "### Documentation\n\n- a guide" in unreleased
    assert "### Other\n\n- Quick fix without a type" in unreleased
    assert "### Features\n\n- first feature" in released
    assert "**serve**: a bug" in released
    assert "more tests" not in text
    assert "not-a-version" not in text


def test_next_titles_the_unreleased_commits_and_check_detects_staleness(repo: Path) -> None:
    assert run(repo, "--next", "v0.2.0").returncode == 0
    assert f"## v0.2.0 ({date.today().isoformat()})" in (repo / "CHANGELOG.md").read_text()
    git(repo, "add", "CHANGELOG.md")
    commit(repo, "chore(release): v0.2.0")  # hidden, so tagging changes nothing
    git(repo, "tag", "v0.2.0")
    assert run(repo, "--check").returncode == 0
    commit(repo, "fix: after the release")
    stale = run(repo, "--check")
    assert stale.returncode == 1 and "is stale" in stale.stderr


@pytest.mark.parametrize(
    ("message", "expected"),
    [("fix: x", "v0.1.1"), ("feat: x", "v0.2.0"), ("feat!: x", "v0.2.0")],
)
def test_bump_follows_semver_with_0x_breaking_as_minor(
    tmp_path: Path, message: str, expected: str
) -> None:
    git(tmp_path, "init", "-q", "-b", "main")
    commit(tmp_path, "feat: start")
    git(tmp_path, "tag", "v0.1.0")
    commit(tmp_path, message)
    assert run(tmp_path, "--bump").stdout.strip() == expected
    git(tmp_path, "tag", "v1.0.0")
    commit(tmp_path, "feat!: break")
    assert run(tmp_path, "--bump").stdout.strip() == "v2.0.0"
