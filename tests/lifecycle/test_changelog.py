"""scripts/changelog.py: CHANGELOG.md from conventional commits by git-cliff (cliff.toml)."""

from __future__ import annotations

import subprocess
import sys
import time
from datetime import UTC, datetime
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
    assert text.startswith("# Changelog\n\nBuilt from the conventional commits by git-cliff")
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
    # the sections in the old generator's order, one blank line apart, the file ends in one \n
    headings = [line for line in unreleased.splitlines() if line.startswith("###")]
    assert headings == [
        "### Breaking changes",
        "### Features",
        "### Performance",
        "### Documentation",
        "### Other",
    ]
    assert "\n\n\n" not in text and text.endswith(")\n")


def test_a_release_of_hidden_types_only_says_so(tmp_path: Path) -> None:
    git(tmp_path, "init", "-q", "-b", "main")
    commit(tmp_path, "feat: start")
    git(tmp_path, "tag", "v0.1.0")
    commit(tmp_path, "ci: faster pipeline")
    commit(tmp_path, "chore!: drop Python 3.10")  # hidden type, but breaking: still listed
    git(tmp_path, "tag", "v0.1.1")
    commit(tmp_path, "test: more")
    git(tmp_path, "tag", "v0.1.2")
    assert run(tmp_path).returncode == 0
    text = (tmp_path / "CHANGELOG.md").read_text()
    v012, v011 = text.split("## v0.1.2 (")[1].split("## v0.1.1 (")
    assert "No user-facing changes." in v012
    assert "### Breaking changes\n\n- drop Python 3.10" in v011
    assert "faster pipeline" not in text and "No user-facing changes." not in v011


def test_next_titles_the_unreleased_commits_and_check_detects_staleness(repo: Path) -> None:
    assert run(repo, "--next", "v0.2.0").returncode == 0
    # git-cliff dates releases in UTC
    today = datetime.now(UTC).date().isoformat()
    assert f"## v0.2.0 ({today})" in (repo / "CHANGELOG.md").read_text()
    git(repo, "add", "CHANGELOG.md")
    commit(repo, "chore(release): v0.2.0")  # hidden, so tagging changes nothing
    git(repo, "tag", "v0.2.0")
    assert run(repo, "--check").returncode == 0
    commit(repo, "fix: after the release")
    stale = run(repo, "--check")
    assert stale.returncode == 1 and "is stale" in stale.stderr


def test_check_tags_the_release_commits_first(repo: Path) -> None:
    """A clone has no tags: --check puts them back before comparing."""
    assert run(repo, "--next", "v0.2.0").returncode == 0
    git(repo, "add", "CHANGELOG.md")
    commit(repo, "chore(release): v0.2.0")  # not tagged by hand this time
    assert run(repo, "--check").returncode == 0
    assert "v0.2.0" in git(repo, "tag", "--list").split()


def test_check_is_stable_when_commits_share_a_second(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As after a rebase: ordered by date, such commits changed places once tagged."""
    now = f"{int(time.time())} +0000"
    monkeypatch.setenv("GIT_AUTHOR_DATE", now)
    monkeypatch.setenv("GIT_COMMITTER_DATE", now)
    git(tmp_path, "init", "-q", "-b", "main")
    for index in range(8):
        commit(tmp_path, f"feat: feature {index}")
    assert run(tmp_path, "--next", "v0.1.0").returncode == 0
    lines = [line for line in (tmp_path / "CHANGELOG.md").read_text().splitlines() if "- " in line]
    assert [line.split(" (")[0] for line in lines] == [f"- feature {i}" for i in range(7, -1, -1)]
    git(tmp_path, "add", "CHANGELOG.md")
    commit(tmp_path, "chore(release): v0.1.0")
    assert run(tmp_path, "--check").returncode == 0


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


def test_bump_without_any_release_is_the_first_one(tmp_path: Path) -> None:
    git(tmp_path, "init", "-q", "-b", "main")
    commit(tmp_path, "feat: start")
    assert run(tmp_path, "--bump").stdout.strip() == "v0.1.0"
