"""The README's table of questions names every question copier.yml asks, and no other."""

from __future__ import annotations

import re
from typing import Any

from tests.conftest import ROOT


def test_the_readme_lists_every_question(copier_questions: dict[str, Any]) -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("### Questions", 1)[1].split("\n\n", 2)[1]
    named = {
        name
        for row in section.splitlines()[2:]
        for name in re.findall(r"`([a-z0-9_]+)`", row.split("|")[2])
    }
    assert set(copier_questions) <= named, sorted(set(copier_questions) - named)
    assert named <= set(copier_questions), sorted(named - set(copier_questions))
