"""Fixtures shared by the template tests (helpers live in ``tests/support``)."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.support.repo import render_answers, snapshot_template  # noqa: E402


@pytest.fixture(scope="session")
def template_snapshot(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return snapshot_template(tmp_path_factory.mktemp("template"))


@pytest.fixture(scope="session")
def render(
    template_snapshot: Path, tmp_path_factory: pytest.TempPathFactory
) -> Callable[[dict[str, Any]], Path]:
    """Render answers on top of the defaults (cached per answer set); return the project dir."""
    cache: dict[str, Path] = {}

    def _render(answers: dict[str, Any]) -> Path:
        key = repr(sorted(answers.items()))
        if key not in cache:
            cache[key] = render_answers(
                template_snapshot, tmp_path_factory.mktemp("render"), answers
            )
        return cache[key]

    return _render


@pytest.fixture(scope="session")
def copier_questions() -> dict[str, Any]:
    import yaml

    data = yaml.safe_load((ROOT / "copier.yml").read_text(encoding="utf-8"))
    return {k: v for k, v in data.items() if not k.startswith("_")}
