"""Print the requirements an image installs, read from pyproject.toml alone.

The Dockerfiles install dependencies from this list before copying the source, so the
dependency layers are rebuilt only when pyproject.toml changes, not on every code edit:

    python docker/requirements.py pyproject.toml          # torch images (torch comes first)
    python docker/requirements.py --onnx pyproject.toml   # ONNX image: no torch stack
"""

from __future__ import annotations

import re
import sys
import tomllib
from pathlib import Path

#: Distributions only the torch runtime needs; the ONNX image leaves them out.
TORCH_STACK = {"torch", "transformers", "safetensors", "huggingface-hub"}
#: What the ONNX image serves with instead (tokenizers is already a server dependency).
#: uvicorn without [standard]: httptools keeps the fast HTTP parser; uvloop, watchfiles and
#: websockets (about 25 MB) stay out of the edge image.
ONNX_SERVING = ["onnxruntime>=1.18", "numpy>=1.26", "httptools>=0.6"]


def _name(requirement: str) -> str:
    match = re.match(r"[A-Za-z0-9][A-Za-z0-9._-]*", requirement)
    return re.sub(r"[-_.]+", "-", match.group(0)).lower() if match else requirement


def requirements(pyproject: Path, onnx: bool) -> list[str]:
    project = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]
    deps: list[str] = project["dependencies"]
    if not onnx:
        return deps
    kept = [dep for dep in deps if _name(dep) not in TORCH_STACK]
    return [re.sub(r"^uvicorn\[standard\]", "uvicorn", dep) for dep in kept] + ONNX_SERVING


def main(argv: list[str]) -> int:
    onnx = "--onnx" in argv
    paths = [arg for arg in argv if arg != "--onnx"]
    if len(paths) != 1:
        print("usage: requirements.py [--onnx] PATH/TO/pyproject.toml", file=sys.stderr)
        return 2
    print("\n".join(requirements(Path(paths[0]), onnx)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
