"""The template's own release workflow (.github/workflows/release.yml).

actionlint checks it as tests/lifecycle/test_workflows.py checks the generated ones. Then its
``run:`` steps run with bash, in order, in a repository with two ``chore(release)`` commits
whose ``origin`` is a local bare repository: the tags are made and pushed for real, twice
(the second run adds nothing), and the notes come from the real git-cliff. ``gh`` (the
GitHub releases API) cannot run here: a stand-in script on the PATH answers ``gh release
view`` from what it recorded and records ``gh release create`` with its notes.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.lifecycle.test_workflows import _actionlint
from tests.support.repo import GIT_ENV, ROOT, git

WORKFLOW = ROOT / ".github" / "workflows" / "release.yml"
FAKE_GH = """#!/usr/bin/env bash
# Stand-in for the GitHub CLI: releases are files under $GH_RELEASES.
set -e
[ "$1" = release ] || { echo "unexpected gh $*" >&2; exit 2; }
case "$2" in
  view) [ -f "$GH_RELEASES/$3" ] ;;
  create)
    tag=$3; shift 3
    notes=""; flags=""
    while [ $# -gt 0 ]; do
      case "$1" in
        --notes-file) notes=$2; shift 2 ;;
        --title) shift 2 ;;
        *) flags="$flags $1"; shift ;;
      esac
    done
    { echo "flags:$flags"; cat "$notes"; } > "$GH_RELEASES/$tag" ;;
esac
"""


def steps() -> list[dict[str, Any]]:
    workflow = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))
    return [step for job in workflow["jobs"].values() for step in job["steps"]]


def test_actionlint_finds_nothing_in_the_release_workflow() -> None:
    done = _actionlint(WORKFLOW)
    assert done.returncode == 0, done.stdout + done.stderr


def test_it_runs_on_main_with_write_access_and_the_pinned_git_cliff() -> None:
    workflow = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))
    on = workflow.get("on", workflow.get(True))
    assert on["push"]["branches"] == ["main"]
    assert workflow["permissions"] == {"contents": "write"}
    pinned = next(
        line.split("==")[1].strip()
        for line in (ROOT / "requirements" / "constraints.txt").read_text().splitlines()
        if line.startswith("git-cliff==")
    )
    runs = "\n".join(step.get("run", "") for step in steps())
    assert f'"git-cliff=={pinned}"' in runs


@pytest.fixture
def template_repo(tmp_path: Path) -> Path:
    """A repository with the release scripts, two releases, and a bare ``origin``."""
    repo = tmp_path / "template"
    for name in ("release_tags.py", "release_notes.py", "changelog.py"):
        (repo / "scripts").mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / "scripts" / name, repo / "scripts" / name)
    shutil.copy2(ROOT / "cliff.toml", repo / "cliff.toml")
    git(repo.parent, "init", "-q", "-b", "main", str(repo))
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "feat: the scripts")
    for message in (
        "chore(release): v0.1.0",
        "fix(serve): a bug",
        "feat(k8s): a feature",
        "chore(release): v0.2.0",
    ):
        git(repo, "commit", "-q", "--allow-empty", "-m", message)
    origin = tmp_path / "origin.git"
    git(tmp_path, "init", "-q", "--bare", str(origin))
    git(repo, "remote", "add", "origin", str(origin))
    git(repo, "push", "-q", "origin", "main")
    return repo


def run_workflow(repo: Path, tmp_path: Path) -> dict[str, str]:
    """Each ``run:`` step with bash, as the runner would: outputs, env and ``if:`` applied."""
    fake_bin = tmp_path / "fake-bin"
    fake_bin.mkdir(exist_ok=True)
    (fake_bin / "gh").write_text(FAKE_GH)
    (fake_bin / "gh").chmod(0o755)
    (tmp_path / "releases").mkdir(exist_ok=True)
    runner_temp = tmp_path / "runner-temp"
    runner_temp.mkdir(exist_ok=True)
    path = os.pathsep.join([str(fake_bin), str(Path(sys.executable).parent), os.environ["PATH"]])
    outputs: dict[str, dict[str, str]] = {}
    log = {}
    for step in steps():
        if "run" not in step:
            continue
        condition = step.get("if", "")
        if condition and not outputs["tags"].get("releases"):
            assert condition == "steps.tags.outputs.releases != ''", condition
            continue
        if "pip install" in step["run"]:
            continue  # git-cliff is in the template's .venv already, at the same pin
        github_output = runner_temp / "output"
        github_output.write_text("")
        env = {
            **os.environ,
            **GIT_ENV,
            "PATH": path,
            "GITHUB_OUTPUT": str(github_output),
            "RUNNER_TEMP": str(runner_temp),
            "GH_RELEASES": str(tmp_path / "releases"),
        }
        for key, value in (step.get("env") or {}).items():
            env[key] = str(value).replace(
                "${{ steps.tags.outputs.releases }}", outputs.get("tags", {}).get("releases", "")
            )
        done = subprocess.run(
            ["bash", "-e", "-c", step["run"]],
            cwd=repo,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        assert done.returncode == 0, f"{step['name']}:\n{done.stdout}\n{done.stderr}"
        log[step["name"]] = done.stdout + done.stderr
        if "id" in step:
            outputs[step["id"]] = dict(
                line.split("=", 1) for line in github_output.read_text().splitlines() if line
            )
    return log


def test_the_steps_tag_push_and_publish_each_release_once(
    template_repo: Path, tmp_path: Path
) -> None:
    origin = tmp_path / "origin.git"
    assert git(origin, "tag").strip() == ""

    first = run_workflow(template_repo, tmp_path)

    assert git(origin, "tag").split() == ["v0.1.0", "v0.2.0"]
    assert git(origin, "rev-list", "-n1", "v0.2.0") == git(template_repo, "rev-parse", "HEAD")
    notes = (tmp_path / "releases" / "v0.2.0").read_text()
    assert "### Fixes" in notes and "**serve**: a bug" in notes and "**k8s**: a feature" in notes
    assert "## v0.2.0" not in notes and "# Changelog" not in notes
    assert "--verify-tag" in notes.splitlines()[0]
    assert "created v0.2.0" in first["Tag the release commits"]

    (tmp_path / "releases" / "v0.2.0").write_text("published\n")
    second = run_workflow(template_repo, tmp_path)

    assert "exists  v0.2.0" in second["Tag the release commits"]
    assert "release v0.2.0 exists" in second["Publish the release notes"]
    assert (tmp_path / "releases" / "v0.2.0").read_text() == "published\n", "never redone"


def test_release_notes_need_the_tag(template_repo: Path) -> None:
    done = subprocess.run(
        [sys.executable, "scripts/release_notes.py", "v0.1.0"],
        cwd=template_repo,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode != 0 and "run `make tags` first" in done.stderr
