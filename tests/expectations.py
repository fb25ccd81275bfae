"""Which files a render must contain or lack, as a function of its answers.

Each feature area adds its own rule here, so the render test stays one loop.
"""

from __future__ import annotations

from typing import Any


def expected_files(answers: dict[str, Any]) -> tuple[set[str], set[str]]:
    """Return (paths that must exist, paths that must not exist) for these answers."""
    pkg = f"src/{answers['package_name']}"
    present = {
        ".copier-answers.yml",
        ".gitignore",
        "README.md",
        "Makefile",
        "pyproject.toml",
        f"{pkg}/__init__.py",
        f"{pkg}/config.py",
        f"{pkg}/hardware.py",
        f"{pkg}/model.py",
        f"{pkg}/cli.py",
        f"{pkg}/serve/app.py",
        f"{pkg}/serve/routes/health.py",
        f"{pkg}/serve/routes/native.py",
        "tests/conftest.py",
        "tests/test_server.py",
        "tests/test_model.py",
    }
    absent: set[str] = set()

    # cloud deploy targets (SageMaker, Vertex AI, Modal): code, CLI commands and their tests
    targets = set(answers.get("deploy_targets") or [])
    cloud_files = {
        "sagemaker": [
            f"{pkg}/deploy/aws.py",
            f"{pkg}/deploy/sagemaker.py",
            f"{pkg}/deploy/sagemaker_plan.py",
            f"{pkg}/deploy/sagemaker_artifacts.py",
            f"{pkg}/commands/sagemaker.py",
            "tests/moto_sagemaker.py",
            "tests/test_deploy_sagemaker.py",
        ],
        "vertex": [
            f"{pkg}/deploy/gcp.py",
            f"{pkg}/deploy/vertex.py",
            f"{pkg}/deploy/vertex_plan.py",
            f"{pkg}/commands/vertex.py",
            "tests/vertex_standin.py",
            "tests/test_deploy_vertex.py",
        ],
        "modal": [
            f"{pkg}/deploy/modal_app.py",
            f"{pkg}/deploy/modal_check.py",
            f"{pkg}/commands/modal.py",
            "tests/test_deploy_modal.py",
        ],
    }
    for target, files in cloud_files.items():
        (present if target in targets else absent).update(files)
    shared = {f"{pkg}/deploy/cloud.py", f"{pkg}/deploy/cloud_targets.py"}
    (present if targets & set(cloud_files) else absent).update(shared)
    return present, absent
