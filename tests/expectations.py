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
    # serving engine (issue 3): batching, every protocol, metrics, shutdown, their tests
    present |= {
        f"{pkg}/batching.py",
        f"{pkg}/batching_errors.py",
        f"{pkg}/streaming.py",
        f"{pkg}/metrics.py",
        f"{pkg}/serve/inference.py",
        f"{pkg}/serve/server.py",
        f"{pkg}/serve/openai_schemas.py",
        f"{pkg}/serve/routes/openai.py",
        f"{pkg}/serve/routes/oip.py",
        f"{pkg}/serve/routes/oip_codec.py",
        f"{pkg}/serve/routes/sagemaker.py",
        f"{pkg}/serve/routes/vertex.py",
        f"{pkg}/serve/routes/metrics.py",
        "tests/live_server.py",
        "tests/test_batching.py",
        "tests/test_protocols.py",
        "tests/test_contracts.py",
        "tests/test_openapi_fuzz.py",
        "tests/test_shutdown.py",
    }
    return present, absent
