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

    # container images (issue 4): CPU image always, CUDA image for GPUs, ONNX image for edge
    present |= {".dockerignore", "docker/Dockerfile.cpu", "docker/requirements.py",
                "docker/wheels/README.md", "docker/model/README.md",
                f"{pkg}/images.py", f"{pkg}/commands/images.py", "tests/test_images.py"}
    gpu = answers["accelerator"] != "cpu"
    onnx = answers["runtime"] == "onnxruntime" or "edge" in answers["deploy_targets"]
    (present if gpu else absent).add("docker/Dockerfile")
    (present if onnx else absent).add("docker/Dockerfile.onnx")
    return present, absent
