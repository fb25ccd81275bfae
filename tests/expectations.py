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
    # ONNX export and the onnxruntime path exist in every project; their tests only where used.
    present |= {
        f"{pkg}/edge_runner.py",
        f"{pkg}/onnx_runtime.py",
        f"{pkg}/commands/onnx.py",
        f"{pkg}/export/onnx.py",
        f"{pkg}/export/bundle.py",
    }
    onnx_tests = {"tests/test_onnx_export.py", "tests/test_onnx_server.py", "tests/onnx_helpers.py"}
    uses_onnx = answers["runtime"] == "onnxruntime" or "edge" in answers["deploy_targets"]
    (present if uses_onnx else absent).update(onnx_tests)
    return present, absent
