"""The generated package's layout: folders by role, one folder per deploy target, no cycles.

These read a render with every target and check the structure ADR 0090 promises, by parsing
the generated modules (their imports), not by matching their text.
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

import pytest

from tests.support.generated import package_name
from tests.support.matrix import CASES

ALL_TARGETS = "all-targets-l4"
DEPLOY_TARGETS = ("kubernetes", "sagemaker", "vertex", "modal")
MAX_LINES = 300
#: a module over MAX_LINES says why in a comment in its first lines
LONG_MARKER = "# long module:"


def modules(src: Path) -> dict[str, Path]:
    """Dotted module name -> file, for every module of the package under ``src``."""
    found = {}
    for path in sorted(src.rglob("*.py")):
        parts = list(path.relative_to(src).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found[".".join(parts)] = path
    return found


def imports(name: str, path: Path, known: dict[str, Path]) -> set[str]:
    """Modules of the package that ``name`` imports, anywhere in it (functions included)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                target = ".".join([*base, *([node.module] if node.module else [])])
            else:
                target = node.module or ""
            for alias in node.names:
                submodule = f"{target}.{alias.name}"
                found.add(submodule if submodule in known else target)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return {module for module in found if module in known and module != name}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every strongly connected component with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph[node]):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


@pytest.fixture(scope="module")
def graph(render: Any) -> dict[str, set[str]]:
    src = render(CASES[ALL_TARGETS]) / "src"
    known = modules(src)
    return {name: imports(name, path, known) for name, path in known.items()}


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_cycle_in_the_generated_package(graph: dict[str, set[str]]) -> None:
    assert len(graph) > 50  # the whole package was parsed
    assert cycles(graph) == []


def test_no_module_over_the_size_limit_without_a_reason(render: Any) -> None:
    src = render(CASES[ALL_TARGETS]) / "src"
    long = []
    for path in src.rglob("*.py"):
        lines = path.read_text(encoding="utf-8").splitlines()
        if len(lines) > MAX_LINES and not any(LONG_MARKER in line for line in lines[:15]):
            long.append(f"{path.relative_to(src)}: {len(lines)} lines")
    assert long == []


def test_each_deploy_target_lives_in_one_folder(render: Any) -> None:
    project = render(CASES[ALL_TARGETS])
    package = project / "src" / package_name(project)
    deploy = package / "deploy"
    assert {p.name for p in deploy.iterdir() if p.is_dir() and p.name != "__pycache__"} == set(
        DEPLOY_TARGETS
    )
    # what every target shares: confirmation and waiting, the OpenAI check of vLLM deployments
    assert {p.name for p in deploy.glob("*.py")} == {"__init__.py", "common.py", "openai_client.py"}
    for target in DEPLOY_TARGETS:
        assert (deploy / target / "cli.py").is_file(), target
        strays = [
            p.relative_to(package)
            for p in package.rglob(f"*{target}*.py")
            if deploy / target not in p.parents and p.parent.name != "protocols"
        ]
        assert strays == [], f"{target} code outside deploy/{target}/"
        assert (project / "tests" / target).is_dir(), f"{target}'s tests are not in one folder"


def test_sibling_protocols_do_not_import_each_other(graph: dict[str, set[str]]) -> None:
    protocols = {name for name in graph if ".serve.protocols." in name}
    crossing = {
        (name, other)
        for name in protocols
        for other in graph[name] & protocols
        # a protocol may split itself into modules (openai + openai_schemas, oip + oip_codec)
        if not other.rsplit(".", 1)[1].startswith(name.rsplit(".", 1)[1])
    }
    assert crossing == set()


def test_the_engine_does_not_reach_into_the_runtime_or_http(graph: dict[str, set[str]]) -> None:
    core = {name for name in graph if ".engine." in name and not name.endswith(".cli")}
    assert len(core) >= 4
    reached = {(name, other) for name in core for other in graph[name]}
    assert {pair for pair in reached if ".runtime." in pair[1] or ".serve." in pair[1]} == set()


def test_one_deploy_error_hierarchy(render: Any) -> None:
    src = render(CASES[ALL_TARGETS]) / "src"
    classes = [
        (node.name, path.relative_to(src))
        for path in src.rglob("*.py")
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.ClassDef)
    ]
    names = [name for name, _ in classes]
    assert names.count("DeployError") == 1
    assert len(names) == len(set(names)), "two classes with one name in one package"
