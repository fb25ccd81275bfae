"""The documented lifecycle in a fresh clone, which has no tags (only main travels).

A real ``git clone`` of this repository (its history, so the real ``chore(release): v0.1.0``
commit), with the working tree committed on top so HEAD is what is on disk. Then the steps
docs/releasing.md and docs/platform-teams.md show: ``make tags``, ``copier copy --vcs-ref
v0.1.0``, the user's edits, ``copier update --vcs-ref HEAD``; every edit is still there
(in place, or kept aside when the release moved the file: ADR 0084), and the updated
project passes its own tests. Pinning by commit works without any tag.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.lifecycle.test_update import PKG, answers, copier_cli, leftovers
from tests.support.repo import ROOT, git, run_generated_tests, tracked_files

FIRST_RELEASE = "chore(release): v0.1.0"


@pytest.fixture(scope="module")
def clone(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``git clone`` of this repository plus its working tree as one more commit; no tags."""
    if not git(ROOT, "log", "--format=%H", f"--grep=^{FIRST_RELEASE}$", "HEAD").strip():
        pytest.skip("this checkout's history has no v0.1.0 release commit (a shallow clone?)")
    dst = tmp_path_factory.mktemp("fresh") / "copier-ml-deploy"
    git(ROOT.parent, "clone", "-q", "--no-tags", str(ROOT), str(dst))
    for name in git(dst, "ls-files", "-z").split("\0"):
        if name and not (ROOT / name).exists():
            git(dst, "rm", "-q", "--", name)
    for name in tracked_files(ROOT):
        (dst / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, dst / name)
    git(dst, "add", "-A")
    git(dst, "commit", "-q", "--allow-empty", "-m", "test: the working tree")
    return dst


def test_a_clone_has_no_tags_until_make_tags(clone: Path) -> None:
    assert git(clone, "tag").strip() == "", "a clone of main brings no tags"
    done = subprocess.run(["make", "tags"], cwd=clone, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "v0.1.0" in git(clone, "tag").split()
    again = subprocess.run(["make", "tags"], cwd=clone, capture_output=True, text=True, check=True)
    assert "created" not in again.stdout, "make tags is idempotent"


def test_copy_at_the_first_release_edit_update_to_head_keeps_every_edit(
    clone: Path, tmp_path: Path
) -> None:
    subprocess.run(["make", "tags"], cwd=clone, capture_output=True, check=True)
    project = tmp_path / "my-service"
    copier_cli(
        tmp_path, "copy", "--trust", "--defaults", "--vcs-ref", "v0.1.0", str(clone), str(project)
    )
    assert answers(project)["_commit"] == "v0.1.0"
    git(project, "init", "-q", "-b", "main")
    git(project, "add", "-A")
    git(project, "commit", "-q", "-m", "generated at v0.1.0")
    # The user's edits: a paragraph in a file the release changes, a module of their own,
    # and a line in a module that a later release moved (config.py became settings.py).
    readme = project / "README.md"
    readme.write_text(readme.read_text(encoding="utf-8") + "\nOur on-call rota: see wiki.\n")
    own = project / "src" / PKG / "custom.py"
    own.write_text('"""The team\'s own module."""\n\nTEAM = "search"\n', encoding="utf-8")
    moved = project / "src" / PKG / "config.py"
    assert moved.is_file(), "v0.1.0 had config.py"
    moved.write_text(moved.read_text(encoding="utf-8") + "# our tuning notes\n")
    git(project, "add", "-A")
    git(project, "commit", "-q", "-m", "user edits")

    done = copier_cli(project, "update", "--trust", "--defaults", "--vcs-ref", "HEAD")

    assert answers(project)["_commit"].startswith("v0.1.0-"), "HEAD is past the release"
    assert readme.read_text(encoding="utf-8").endswith("\nOur on-call rota: see wiki.\n")
    assert own.read_text(encoding="utf-8").endswith('TEAM = "search"\n')
    assert (project / "src" / PKG / "settings.py").is_file(), "the release's new layout"
    kept = next((project / ".template-kept").glob(f"*/src/{PKG}/config.py"))
    assert kept.read_text(encoding="utf-8").endswith("# our tuning notes\n")
    assert f"src/{PKG}/config.py -> .template-kept/" in done.stderr
    assert leftovers(project) == ([], [])

    git(project, "add", "-A")
    git(project, "commit", "-q", "-m", "chore: update the template to HEAD")
    run_generated_tests(project)


def test_pinning_by_commit_works_without_tags(clone: Path, tmp_path: Path) -> None:
    """``--vcs-ref <sha>``: no tag needed to copy; after ``make tags`` the update works."""
    sha = git(clone, "log", "--format=%H", f"--grep=^{FIRST_RELEASE}$", "HEAD").split()[0]
    bare = tmp_path / "untagged"
    git(tmp_path, "clone", "-q", "--no-tags", str(clone), str(bare))
    assert git(bare, "tag").strip() == ""
    project = tmp_path / "pinned"
    copier_cli(
        tmp_path,
        "copy",
        "--trust",
        "--defaults",
        "--quiet",
        "--vcs-ref",
        sha[:7],
        str(bare),
        str(project),
    )
    assert sha.startswith(str(answers(project)["_commit"])), "a bare commit is recorded"
    git(project, "init", "-q", "-b", "main")
    git(project, "add", "-A")
    git(project, "commit", "-q", "-m", "generated at the first release's commit")

    subprocess.run(["make", "tags"], cwd=bare, capture_output=True, check=True)
    copier_cli(project, "update", "--trust", "--defaults", "--quiet", "--vcs-ref", "HEAD")

    assert answers(project)["_commit"].startswith("v0.1.0-")
    assert (project / "src" / PKG / "settings.py").is_file()
