"""The generated template-update workflow's script, ``template_update.py propose``.

It runs in a clone of a generated project whose ``origin`` is a local bare repository, so the
update, the commit and the push are real. Its default branch is ``trunk``, so a script that
assumed ``main`` or read an event payload would fail. Where ``gh`` (the GitHub API) is
needed, a stand-in script on the PATH plays GitHub: it records pull requests and issues
under a folder and, when told to, refuses pull requests with the message GitHub gives when
"Allow GitHub Actions to create and approve pull requests" is off. A pre-receive hook in the
bare repository refuses changes to .github/workflows/ as GitHub does for a token without
the workflows permission.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.lifecycle.test_update import copy_at, two_releases
from tests.support.repo import GIT_ENV, git

__all__ = ["two_releases"]

FAKE_GH = """#!/usr/bin/env bash
# Stand-in for the GitHub CLI: pull requests and issues are files under $GH_STATE.
set -e
has() { ls "$GH_STATE"/"$1"-* > /dev/null 2>&1; }
title="Template update ready on branch template-update/v0.2.0"
case "$1 $2" in
  "repo view") echo trunk ;;
  "pr list") if has pr; then echo '[{"url": "https://example.invalid/pr/1"}]'; else echo '[]'; fi ;;
  "pr create")
    if [ -n "$GH_REFUSE_PRS" ]; then
      echo "GraphQL: GitHub Actions is not permitted to create or approve pull requests" >&2
      exit 1
    fi
    echo "$*" > "$GH_STATE/pr-1"; echo "https://example.invalid/pr/1" ;;
  "issue list") if has issue; then echo "[{\\"title\\": \\"$title\\"}]"; else echo '[]'; fi ;;
  "issue create")
    echo "$*" > "$GH_STATE/issue-$(ls "$GH_STATE" | wc -l)"
    echo "https://example.invalid/issues/7" ;;
  *) echo "unexpected gh $*" >&2; exit 2 ;;
esac
"""
REFUSED = "refusing to allow a GitHub App to create or update workflow without workflows permission"
REFUSE_WORKFLOWS = f"""#!/usr/bin/env bash
# GitHub refuses a push that changes workflow files from a token without `workflows`.
while read -r old new ref; do
  base=$(git merge-base "$new" refs/heads/trunk 2>/dev/null || true)
  if [ -n "$base" ] && git diff --name-only "$base" "$new" | grep -q '^.github/workflows/'; then
    echo "{REFUSED}" >&2
    exit 1
  fi
done
"""


@pytest.fixture
def checkout(two_releases: Path, tmp_path: Path) -> Path:
    """A generated project at v0.1.0, pushed to a bare ``origin`` whose default is trunk."""
    project = copy_at(two_releases, "v0.1.0", tmp_path / "project")
    origin = tmp_path / "origin.git"
    git(tmp_path, "init", "-q", "--bare", str(origin))
    git(project, "push", "-q", str(origin), "main:trunk")
    git(origin, "symbolic-ref", "HEAD", "refs/heads/trunk")
    clone = tmp_path / "checkout"
    git(tmp_path, "clone", "-q", str(origin), str(clone))
    return clone


def propose(
    clone: Path, tmp_path: Path, *, gh: bool, **env: str
) -> subprocess.CompletedProcess[str]:
    state = tmp_path / "gh-state"
    state.mkdir(exist_ok=True)
    path = os.environ["PATH"]
    if gh:
        fake = tmp_path / "fake-bin"
        fake.mkdir(exist_ok=True)
        (fake / "gh").write_text(FAKE_GH)
        (fake / "gh").chmod(0o755)
        path = f"{fake}{os.pathsep}{path}"
    return subprocess.run(
        [
            sys.executable,
            ".github/scripts/template_update.py",
            "propose",
            "--body",
            str(tmp_path / "body.md"),
        ],
        cwd=clone,
        env={**os.environ, **GIT_ENV, "PATH": path, "GH_STATE": str(state), **env},
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_propose_pushes_the_branch_and_opens_a_pull_request_into_the_default_branch(
    checkout: Path, tmp_path: Path
) -> None:
    done = propose(checkout, tmp_path, gh=True)
    assert done.returncode == 0, done.stderr
    origin = tmp_path / "origin.git"
    assert git(origin, "branch", "--list", "template-update/v0.2.0").strip()
    pr = (tmp_path / "gh-state" / "pr-1").read_text()
    assert "--base trunk --head template-update/v0.2.0" in pr
    assert "opened https://example.invalid/pr/1" in done.stdout

    again = propose(checkout, tmp_path, gh=True)
    assert again.returncode == 0, again.stderr
    assert "pull request open already" in again.stdout


def test_without_gh_the_base_comes_from_origins_head(checkout: Path, tmp_path: Path) -> None:
    done = propose(checkout, tmp_path, gh=False)
    assert done.returncode == 0, done.stderr
    assert "open a pull request into trunk" in done.stdout
    assert git(tmp_path / "origin.git", "branch", "--list", "template-update/v0.2.0").strip()


def test_when_pull_requests_are_not_allowed_an_issue_links_the_branch_once(
    checkout: Path, tmp_path: Path
) -> None:
    done = propose(checkout, tmp_path, gh=True, GH_REFUSE_PRS="1")
    assert done.returncode == 0, done.stderr
    issues = sorted((tmp_path / "gh-state").glob("issue-*"))
    assert len(issues) == 1
    assert "Template update ready on branch template-update/v0.2.0" in issues[0].read_text()
    assert "not permitted to create or approve pull requests" in done.stdout

    again = propose(checkout, tmp_path, gh=True, GH_REFUSE_PRS="1")
    assert again.returncode == 0, again.stderr
    assert "issue for template-update/v0.2.0 is open already" in again.stdout
    assert len(sorted((tmp_path / "gh-state").glob("issue-*"))) == 1, "no duplicate issue"

    allowed = propose(checkout, tmp_path, gh=True)
    assert "opened https://example.invalid/pr/1" in allowed.stdout, "a later run retries"


def test_a_workflow_change_without_the_workflows_permission_says_which_token(
    two_releases: Path, tmp_path: Path
) -> None:
    """A release that changes ci.yml, pushed with a token GitHub refuses for workflow files."""
    template = tmp_path / "template"
    git(tmp_path, "clone", "-q", str(two_releases), str(template))
    project = copy_at(two_releases, "v0.2.0", tmp_path / "project")
    ci = template / "template" / ".github" / "workflows" / "ci.yml.jinja"
    ci.write_text(ci.read_text(encoding="utf-8") + "# v0.3.0 changed CI\n", encoding="utf-8")
    git(template, "commit", "-q", "-am", "ci: a change to the generated CI")
    git(template, "tag", "v0.3.0")
    answers = project / ".copier-answers.yml"
    answers.write_text(answers.read_text().replace(str(two_releases), str(template)))
    git(project, "commit", "-q", "-am", "the template moved")
    origin = tmp_path / "origin.git"
    git(tmp_path, "init", "-q", "--bare", str(origin))
    git(project, "push", "-q", str(origin), "main:trunk")
    git(origin, "symbolic-ref", "HEAD", "refs/heads/trunk")
    hook = origin / "hooks" / "pre-receive"
    hook.write_text(REFUSE_WORKFLOWS)
    hook.chmod(0o755)
    clone = tmp_path / "checkout"
    git(tmp_path, "clone", "-q", str(origin), str(clone))

    done = propose(clone, tmp_path, gh=True)

    assert done.returncode == 2
    assert "'workflows' permission" in done.stderr and "TEMPLATE_UPDATE_TOKEN" in done.stderr
    assert "Workflows: read and write" in done.stderr
