"""Render every case of the answer matrix and check the result's shape."""

from __future__ import annotations

import dataclasses
import json
import re
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.support.expectations import expected_files
from tests.support.generated import project_module
from tests.support.matrix import CASES, GENERATED_SUITES

# Jinja left behind; GitHub Actions expressions (${{ ... }}) are legitimate.
UNRENDERED = re.compile(r"(?<!\$)\{\{|\{%|%\}|\{#")


def _answers(project: Path) -> dict[str, Any]:
    return yaml.safe_load((project / ".copier-answers.yml").read_text(encoding="utf-8"))


def test_every_matrix_key_is_a_question(copier_questions: dict[str, Any]) -> None:
    for name, case in CASES.items():
        unknown = set(case) - set(copier_questions)
        assert not unknown, f"case {name!r} uses answers copier.yml does not define: {unknown}"
    assert set(GENERATED_SUITES) <= set(CASES)


def test_every_question_has_help(copier_questions: dict[str, Any]) -> None:
    missing = [name for name, q in copier_questions.items() if not q.get("help")]
    assert not missing, f"questions without help text: {missing}"


def test_no_question_asks_for_a_secret(copier_questions: dict[str, Any]) -> None:
    secretish = re.compile(r"password|secret|token|api_key|credential", re.I)
    offenders = [name for name in copier_questions if secretish.search(name)]
    assert not offenders, f"secrets must come from the environment, not answers: {offenders}"


@pytest.mark.parametrize("case", CASES)
def test_case_renders_a_complete_project(case: str, render: Any) -> None:
    project = render(CASES[case])
    answers = _answers(project)
    for key, value in CASES[case].items():
        recorded = answers[key]
        if isinstance(value, list):  # multiselect answers keep the order of the choices
            recorded, value = sorted(recorded), sorted(value)
        assert recorded == value, f"answer {key} not recorded"

    present, absent = expected_files(answers)
    files = {str(p.relative_to(project)) for p in project.rglob("*") if p.is_file()}
    assert not (present - files), f"missing: {sorted(present - files)}"
    assert not (absent & files), f"should not exist: {sorted(absent & files)}"

    for path in project.rglob("*"):
        if not path.is_file() or ".git" in path.parts:
            continue
        text = path.read_text(encoding="utf-8")
        rel = path.relative_to(project)
        assert not UNRENDERED.search(text), f"unrendered Jinja in {rel}"
        assert not path.name.endswith(".jinja"), f"template suffix left on {rel}"
        if path.suffix in {".yml", ".yaml"}:
            list(yaml.safe_load_all(text))
        elif path.suffix == ".toml":
            tomllib.loads(text)
        elif path.suffix == ".json":
            json.loads(text)
        elif path.suffix == ".py":
            compile(text, str(rel), "exec")


@pytest.mark.parametrize("case", CASES)
def test_hardware_module_matches_the_catalog(case: str, render: Any) -> None:
    from extensions.context import derive

    project = render(CASES[case])
    hw = derive(_answers(project))["hw"]
    hardware = project_module(project).HARDWARE
    catalog_names = {
        "sagemaker_instance_type": "sagemaker_instance",
        "vertex_machine_type": "vertex_machine",
        "gpu_memory_gb": "memory_gb",
    }
    for field in dataclasses.fields(hardware):
        assert getattr(hardware, field.name) == hw[catalog_names.get(field.name, field.name)], field
    assert hardware.device == ("cuda" if hw["is_gpu"] else "cpu")
