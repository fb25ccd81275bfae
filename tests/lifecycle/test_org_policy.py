"""An organisation's policy file presets answers and forbids others (docs/platform-teams.md).

The organisation's template is this one plus ``org-policy.yml`` at its root (a fork with one
file, or a thin layer kept in sync): the validators read ``allowed``, the questions take
their defaults from ``defaults``, also questions asked only later, such as ``gcp_project``
once a project adds vertex (Copier records no answer for a question it did not ask, so
defaults in a data file or in the answers file would be lost by then).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.lifecycle.test_update import answers, copier_cli, copy_at
from tests.support.repo import git, snapshot_template

POLICY = {
    "defaults": {
        "image_registry": "ghcr.io/acme",
        "gcp_project": "acme-ml-prod",
        "gcp_region": "europe-west4",
        "aws_region": "eu-west-1",
        "auth_enabled": True,
    },
    "allowed": {
        "accelerator": ["cpu", "nvidia-l4"],
        "gcp_region": ["europe-west4"],
        "aws_region": ["eu-west-1"],
        "image_registry": ["ghcr.io/acme"],
    },
}


@pytest.fixture(scope="module")
def org_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    template = snapshot_template(tmp_path_factory.mktemp("org") / "acme-ml-template")
    (template / "org-policy.yml").write_text(yaml.safe_dump(POLICY, sort_keys=False))
    git(template, "add", "org-policy.yml")
    git(template, "commit", "-q", "-m", "chore: acme's policy")
    git(template, "tag", "v0.1.0")
    return template


def refused(template: Path, tmp_path: Path, *data: str) -> str:
    args = [sys.executable, "-m", "copier", "copy", "--trust", "--defaults", "--quiet"]
    for item in data:
        args += ["--data", item]
    done = subprocess.run(
        [*args, str(template), str(tmp_path / "refused")],
        capture_output=True,
        text=True,
        env={**os.environ, "NO_COLOR": "1"},
        check=False,
    )
    assert done.returncode == 1, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    return done.stderr


def test_defaults_come_from_the_policy(org_template: Path, tmp_path: Path) -> None:
    project = copy_at(org_template, "v0.1.0", tmp_path / "svc", {"deploy_targets": ["sagemaker"]})
    recorded = answers(project)
    assert recorded["image_registry"] == "ghcr.io/acme"
    assert recorded["aws_region"] == "eu-west-1"
    assert recorded["auth_enabled"] is True
    assert "gcp_project" not in recorded, "not asked: vertex is not a target yet"


def test_a_conditional_default_applies_when_its_question_is_asked_later(
    org_template: Path, tmp_path: Path
) -> None:
    project = copy_at(org_template, "v0.1.0", tmp_path / "svc")
    copier_cli(
        project,
        *("update", "--trust", "--defaults", "--quiet", "--vcs-ref", ":current:"),
        *("--data", "deploy_targets=[kubernetes, vertex]"),
    )
    recorded = answers(project)
    assert recorded["gcp_project"] == "acme-ml-prod"
    assert recorded["gcp_region"] == "europe-west4"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (["accelerator=nvidia-t4"], "accelerator 'nvidia-t4' is not allowed"),
        (["deploy_targets=[vertex]", "gcp_region=us-central1"], "gcp_region 'us-central1'"),
        (["image_registry=docker.io/someone"], "image_registry 'docker.io/someone'"),
    ],
)
def test_answers_outside_the_policy_are_refused(
    data: list[str], message: str, org_template: Path, tmp_path: Path
) -> None:
    stderr = refused(org_template, tmp_path, *data)
    assert message in stderr and "organisation's policy (org-policy.yml)" in stderr


def test_an_unknown_section_in_the_policy_is_an_error(tmp_path: Path) -> None:
    template = snapshot_template(tmp_path / "template")
    (template / "org-policy.yml").write_text("default:\n  image_registry: ghcr.io/acme\n")
    git(template, "add", "org-policy.yml")
    git(template, "commit", "-q", "-m", "a typo in the policy")
    stderr = refused(template, tmp_path)
    assert "unknown section(s) ['default']" in stderr
