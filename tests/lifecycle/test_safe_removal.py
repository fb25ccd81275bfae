"""Dropping a deploy target on update never deletes the user's edits silently (ADR 0084).

One test per target: copy with the target, edit one of its files as a user would, commit,
then drop the target with the command docs/updating.md shows (``copier update --trust
--defaults --vcs-ref :current: --data 'deploy_targets=[...]'``). The target's untouched
files go; the edited one is kept under ``.template-kept/<release>/`` with a README, and the
update says so on stderr. hooks/after_update.py does it, run by Copier after every update.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.lifecycle.test_update import PKG, answers, copier_cli, copy_at, leftovers
from tests.support.repo import git, snapshot_template

ALL = ["kubernetes", "sagemaker", "vertex", "modal"]
#: target -> (a file of that target the user edits, a file of it the user leaves alone)
EDITED = {
    "kubernetes": ("k8s/overlays/prod/deployment-patch.yaml", "k8s/base/service.yaml"),
    "sagemaker": (f"src/{PKG}/deploy/sagemaker/plan.py", f"src/{PKG}/deploy/sagemaker/aws.py"),
    "vertex": (f"src/{PKG}/deploy/vertex/plan.py", f"src/{PKG}/deploy/vertex/gcp.py"),
    "modal": (f"src/{PKG}/deploy/modal/app.py", f"src/{PKG}/deploy/modal/check.py"),
}
USER_LINE = "# tuned by the team: keep this\n"


@pytest.fixture(scope="module")
def released(tmp_path_factory: pytest.TempPathFactory) -> Path:
    template = snapshot_template(tmp_path_factory.mktemp("template"))
    git(template, "tag", "v0.1.0")
    return template


@pytest.mark.parametrize("target", ALL)
def test_dropping_a_target_keeps_the_edited_files(
    target: str, released: Path, tmp_path: Path
) -> None:
    project = copy_at(released, "v0.1.0", tmp_path / "project", {"deploy_targets": ALL})
    edited, untouched = EDITED[target]
    mine = project / edited
    assert mine.is_file() and (project / untouched).is_file()
    mine.write_text(mine.read_text(encoding="utf-8") + USER_LINE, encoding="utf-8")
    git(project, "commit", "-q", "-am", f"user: tune {target}")

    rest = ", ".join(t for t in ALL if t != target)
    done = copier_cli(
        project,
        *("update", "--trust", "--defaults", "--quiet", "--vcs-ref", ":current:"),
        *("--data", f"deploy_targets=[{rest}]"),
    )

    assert target not in answers(project)["deploy_targets"]
    assert not mine.exists() and not (project / untouched).exists(), "the target is dropped"
    kept = project / ".template-kept" / "v0.1.0" / edited
    assert kept.read_text(encoding="utf-8").endswith(USER_LINE), "the edit is kept"
    assert not (project / ".template-kept" / "v0.1.0" / untouched).exists()
    note = (project / ".template-kept" / "v0.1.0" / "README.md").read_text(encoding="utf-8")
    assert f"- `{edited}`" in note and "Move what you still need back" in note
    assert f"{edited} -> .template-kept/v0.1.0/{edited}" in done.stderr
    assert leftovers(project) == ([], [])


def test_user_files_in_a_dropped_folder_are_reported(released: Path, tmp_path: Path) -> None:
    """A user's own overlay stays where it is, and the update names it: its base is gone."""
    project = copy_at(released, "v0.1.0", tmp_path / "project")
    overlay = project / "k8s" / "overlays" / "staging" / "kustomization.yaml"
    overlay.parent.mkdir(parents=True)
    overlay.write_text("resources:\n  - ../../base\n", encoding="utf-8")
    git(project, "add", "-A")
    git(project, "commit", "-q", "-m", "user: a staging overlay")

    done = copier_cli(
        project,
        *("update", "--trust", "--defaults", "--quiet", "--vcs-ref", ":current:"),
        *("--data", "deploy_targets=[sagemaker]"),
    )

    assert overlay.is_file(), "Copier never removes a file the template did not render"
    assert not (project / "k8s" / "base").exists()
    assert "k8s/overlays/staging/kustomization.yaml" in done.stderr
    assert "folders whose template files this release removed" in done.stderr
    assert not (project / ".template-kept").exists(), "nothing edited was removed"


def test_an_update_with_conflicts_ends_with_a_summary(released: Path, tmp_path: Path) -> None:
    """Copier exits 0 and says nothing about inline conflicts; the after-update hook does."""
    project = copy_at(released, "v0.1.0", tmp_path / "project")
    readme = project / "README.md"
    first = readme.read_text(encoding="utf-8").splitlines()[0]
    readme.write_text(
        readme.read_text(encoding="utf-8").replace(first, first + " (ours)", 1), encoding="utf-8"
    )
    git(project, "commit", "-q", "-am", "user: our title")

    done = copier_cli(
        project,
        *("update", "--trust", "--defaults", "--quiet", "--vcs-ref", ":current:"),
        *("--data", "project_name=Renamed Service"),
    )

    assert "CONFLICTS in 1 file(s)" in done.stderr and "\n  README.md" in done.stderr
    assert leftovers(project)[1] == ["README.md"]
