"""Bad answers are refused with a message that says what is wrong and how to fix it.

Rendered through pytest-copie (the ``copie`` fixture) from a snapshot of the working tree.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path
from typing import Any

import pytest

from extensions.context import INSTALLED_IMPORTS, PACKAGE_NAME_LIMIT
from tests.support.matrix import CASES

BAD_ANSWERS: dict[str, tuple[dict[str, Any], str]] = {
    "package name with a dash": (
        {"package_name": "my-service"},
        r"not a valid Python package name: use lower-case letters",
    ),
    "package name shadowing the stdlib": (
        {"package_name": "json"},
        r"would shadow Python's own 'json'",
    ),
    **{
        f"package name shadowing {name}": (
            {"package_name": name},
            rf"would shadow the '{name}' package the generated project installs.*{name}_service",
        )
        for name in ("torch", "fastapi", "transformers", "typer", "yaml", "tests")
    },
    "package name too long for lint-clean code": (
        {"package_name": "a" * 33},
        r"has 33 characters; keep package_name to 32 or fewer",
    ),
    "unknown accelerator": ({"accelerator": "nvidia-b200"}, r"'accelerator'.*nvidia-b200"),
    "model id that is neither hub id nor path": (
        {"model_id": "just-a-name"},
        r"neither a Hugging Face Hub id nor a local path",
    ),
    "model revision as a branch": ({"model_revision": "main"}, r"Pin the model to a commit hash"),
    "model revision too short": ({"model_revision": "abc123"}, r"is not a commit hash"),
    "A10G on Vertex AI": (
        {"accelerator": "nvidia-a10g", "deploy_targets": ["vertex"]},
        r"Vertex AI does not offer NVIDIA A10G.*Choose accelerator nvidia-l4",
    ),
    "H100 x1 on SageMaker": (
        {
            "accelerator": "nvidia-h100-80gb",
            "accelerator_count": 1,
            "deploy_targets": ["sagemaker"],
        },
        r"SageMaker offers NVIDIA H100 .* only in groups of 8 .* set accelerator_count",
    ),
    "serverless SageMaker with a GPU": (
        {"accelerator": "nvidia-t4", "deploy_targets": ["sagemaker"], "sagemaker_serverless": True},
        r"Serverless Inference has no GPUs",
    ),
    "too many GPUs": (
        {"accelerator": "nvidia-l4", "accelerator_count": 16},
        r"between 1 and 8 GPUs",
    ),
    "zero GPUs": ({"accelerator": "nvidia-l4", "accelerator_count": 0}, r"between 1 and 8 GPUs"),
    "max below min replicas": (
        {"min_replicas": 4, "max_replicas": 2},
        r"must be at least min_replicas",
    ),
    "privileged port": ({"port": 80}, r"non-root user, which cannot bind 80"),
    "onnxruntime for generation": (
        {"task": "text-generation", "runtime": "onnxruntime", "model_revision": "a" * 40},
        r"choose runtime torch for text-generation",
    ),
    "edge bundle for generation": (
        {"task": "text-generation", "deploy_targets": ["edge"]},
        r"drop edge from deploy_targets",
    ),
    "registry with a scheme": ({"image_registry": "https://ghcr.io/acme"}, r"without a scheme"),
    "bad GCP project id": (
        {"deploy_targets": ["vertex"], "gcp_project": "My_Project"},
        r"is not a GCP project id",
    ),
    "bad AWS region": (
        {"deploy_targets": ["sagemaker"], "aws_region": "europe"},
        r"not an AWS region",
    ),
    "Kueue quota below one replica": (
        {"accelerator": "nvidia-l4", "accelerator_count": 4, "kueue": True, "kueue_gpu_quota": 2},
        r"must hold at least one replica's 4 GPUs",
    ),
    "download strategy with a local model": (
        {"model_id": "./models/mine", "weights_strategy": "download"},
        r"cannot be downloaded at start",
    ),
    "batch size zero": ({"max_batch_size": 0}, r"between 1 and 1024"),
}


@pytest.mark.parametrize("case", BAD_ANSWERS)
def test_bad_answer_is_refused_with_its_message(
    case: str, copie: Any, template_snapshot: Path
) -> None:
    answers, message = BAD_ANSWERS[case]
    result = copie.copy(extra_answers=answers, template_dir=template_snapshot)
    assert result.exit_code != 0, f"{case}: the bad answer was accepted"
    assert result.exception is not None
    assert re.search(message, str(result.exception)), (
        f"{case}: unexpected message: {result.exception}"
    )


def test_good_defaults_render(copie: Any, template_snapshot: Path) -> None:
    result = copie.copy(template_dir=template_snapshot)
    assert result.exit_code == 0, result.exception
    assert (result.project_dir / "pyproject.toml").is_file()


def test_a_long_project_name_still_gives_a_valid_namespace(
    copie: Any, template_snapshot: Path
) -> None:
    """The namespace default is cut to Kubernetes' 63 characters instead of failing."""
    name = "Customer support ticket routing and triage embeddings for the EMEA region"
    result = copie.copy(extra_answers={"project_name": name}, template_dir=template_snapshot)
    assert result.exit_code == 0, result.exception
    namespace = result.answers["k8s_namespace"]
    assert len(namespace) <= 63 and not namespace.endswith("-")


@pytest.mark.parametrize(
    ("project_name", "package_name"),
    [
        ("Torch", "torch_service"),  # would shadow torch: the default steps aside
        ("Café Überwachung", "cafe_uberwachung"),  # transliterated, not "caf_berwachung"
        ("Straße der Daten", "strasse_der_daten"),
        ("Поиск товаров", "poisk_tovarov"),
        ("3D Vision", "service_3d_vision"),
        (
            "Customer support ticket routing and triage embeddings",
            "customer_support_ticket_routing",
        ),
    ],
)
def test_the_package_name_default_is_a_safe_transliteration(
    project_name: str, package_name: str, copie: Any, template_snapshot: Path
) -> None:
    result = copie.copy(
        extra_answers={"project_name": project_name}, template_dir=template_snapshot
    )
    assert result.exit_code == 0, result.exception
    assert result.answers["package_name"] == package_name
    assert len(package_name) <= PACKAGE_NAME_LIMIT
    assert (result.project_dir / "src" / package_name / "cli.py").is_file()


def test_every_package_the_project_installs_is_a_refused_name(render: Any) -> None:
    """The import names of every dependency (all extras) are in INSTALLED_IMPORTS."""
    pyproject = tomllib.loads((render(CASES["all-targets-l4"]) / "pyproject.toml").read_text())
    project = pyproject["project"]
    requirements = list(project["dependencies"])
    for extra in project["optional-dependencies"].values():
        requirements += extra
    distributions = {re.split(r"[<>=!~;\[ ]", r, maxsplit=1)[0].lower() for r in requirements}
    imports: dict[str, set[str]] = {}
    for module, dists in packages_distributions().items():
        for dist in dists:
            imports.setdefault(dist.lower().replace("_", "-"), set()).add(module)
    checked = set()
    for dist in distributions:
        modules = {m for m in imports.get(dist.replace("_", "-"), set()) if m.isidentifier()}
        modules = {m for m in modules if not m.startswith("_")}
        checked |= modules
        missing = modules - INSTALLED_IMPORTS
        assert not missing, f"{dist} installs {sorted(missing)}: add them to INSTALLED_IMPORTS"
    assert {"torch", "fastapi", "transformers", "typer", "yaml"} <= checked


@pytest.mark.parametrize("case", ["all-targets-l4", "h100-x8-vllm"])  # every file, both engines
def test_a_name_at_the_length_limit_renders_lint_clean_code(case: str, render: Any) -> None:
    answers = {**CASES[case], "package_name": "p" * PACKAGE_NAME_LIMIT}
    project = render(answers)
    for command in (["check", "src", "tests"], ["format", "--check", "src", "tests"]):
        done = subprocess.run(
            [sys.executable, "-m", "ruff", *command],
            cwd=project,
            capture_output=True,
            text=True,
            check=False,
        )
        assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ("package_name=fastapi", "would shadow the 'fastapi' package"),
        ("accelerator=nvidia-b200", "Invalid choice for 'accelerator'"),
    ],
)
def test_a_bad_answer_on_the_command_line_is_one_line_without_a_traceback(
    data: str, message: str, template_snapshot: Path, tmp_path: Path
) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "copier", "copy", "--trust", "--defaults", "--quiet"]
        + ["--data", data, str(template_snapshot), str(tmp_path / "project")],
        capture_output=True,
        text=True,
        env={**os.environ, "NO_COLOR": "1"},
        check=False,
    )
    assert done.returncode == 1
    assert message in done.stderr
    assert "Traceback" not in done.stderr, done.stderr
