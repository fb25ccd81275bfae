"""Read a rendered project's facts by importing its modules, not by grepping their text."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType


def package_name(project: Path) -> str:
    """The generated package under ``src/`` (the one folder with a ``cli.py``)."""
    return next(p.name for p in (project / "src").iterdir() if (p / "cli.py").is_file())


def project_module(project: Path) -> ModuleType:
    """``src/<pkg>/project.py`` of a render, imported on its own (it imports only stdlib)."""
    path = project / "src" / package_name(project) / "project.py"
    spec = importlib.util.spec_from_file_location(f"rendered_project_{id(path)}", path)
    assert spec is not None and spec.loader is not None, path
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
