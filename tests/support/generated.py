"""Read a rendered project's facts by importing its modules, not by grepping their text."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any


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


#: run inside a render's own package: its Settings' defaults and the app's GET routes
_FACTS = """
import json, sys
package = sys.argv[1]
settings = __import__(package + ".settings", fromlist=["Settings"])
app = __import__(package + ".serve.app", fromlist=["create_app"])
server = app.create_app(settings.Settings.model_construct())  # builds routes, loads nothing
defaults = {n: f.default for n, f in settings.Settings.model_fields.items()}
gets = sorted(path for path, ops in server.openapi()["paths"].items() if "get" in ops)
print(json.dumps({"defaults": defaults, "get_routes": gets}, default=str))
"""


def served_facts(project: Path) -> dict[str, Any]:
    """A render's Settings defaults and GET routes, read by importing its own code.

    Runs in a subprocess: renders share package names, and a process imports a name once.
    """
    done = subprocess.run(
        [sys.executable, "-c", _FACTS, package_name(project)],
        env={**os.environ, "PYTHONPATH": str(project / "src"), "HF_HUB_OFFLINE": "1"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    facts: dict[str, Any] = json.loads(done.stdout)
    return facts
