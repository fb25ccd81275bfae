"""Migration: rename answers whose question was renamed, and keep what a new question's
default would change, before ``copier update`` renders.

Copier runs this with ``_stage == 'before'`` (see ``_migrations`` in copier.yml) in the
project's directory when an update crosses the version it is registered for, after it has
rendered the OLD template version with the old answers and before it renders the new one.
Renaming the key in ``.copier-answers.yml`` here is what makes the new version see the
user's old answer; without it Copier would silently fall back to the new question's default
(for ``gpu`` -> ``accelerator``: a GPU project would quietly become a CPU project).

Usage (what copier.yml runs): ``python hooks/migrate_answers.py VERSION [ANSWERS_FILE]``.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

#: release -> {old answer key: new answer key}. Add a row (and a _migrations entry in
#: copier.yml) whenever a question is renamed; never reuse an old key for something else.
RENAMED: dict[str, dict[str, str]] = {
    # The design drafts and the first prototypes asked `gpu` / `gpu_count`; v0.1.0 asks
    # `accelerator` / `accelerator_count` because the CPU is one of the choices.
    "v0.1.0": {"gpu": "accelerator", "gpu_count": "accelerator_count"},
}


#: release -> answers that release added with a default that would change an existing project,
#: and the value such projects keep: {new key: (value, applies to these old answers)}.
KEPT: dict[str, dict[str, tuple[str, Callable[[dict[str, Any]], bool]]]] = {
    # v0.2.0 asks `engine` and defaults GPU text generation to vLLM; a project made before
    # served with the built-in server and keeps it until its owner chooses (ADR 0093).
    "v0.2.0": {
        "engine": (
            "builtin",
            lambda a: a.get("task") == "text-generation" and a.get("accelerator", "cpu") != "cpu",
        )
    },
}


def keep_answers(
    text: str, kept: dict[str, tuple[str, Callable[[dict[str, Any]], bool]]]
) -> tuple[str, list[str]]:
    """Add the answers a project had implicitly before their question existed."""
    old = yaml.safe_load(text) or {}
    notes = []
    for key, (value, applies) in kept.items():
        if key not in old and applies(old):
            text = text if text.endswith("\n") else text + "\n"
            text += f"{key}: {value}\n"
            notes.append(f"kept {key}: {value} (the new default would change this project)")
    return text, notes


def rename_keys(text: str, renames: dict[str, str]) -> tuple[str, list[str]]:
    """Rename top-level keys of a Copier answers file, keeping order, values and comments.

    If both the old and the new key are present, the new one wins and the old line goes.
    """
    notes: list[str] = []
    for old, new in renames.items():
        # The key's line and its value's continuation lines (lists, folded strings).
        entry = re.compile(rf"^{re.escape(old)}:(?P<rest>.*\n?(?:[ -].*\n?)*)", re.M)
        match = entry.search(text)
        if not match:
            continue
        if re.search(rf"^{re.escape(new)}:", text, re.M):
            text = text[: match.start()] + text[match.end() :]
            notes.append(f"dropped {old} (superseded by {new})")
        else:
            text = f"{text[: match.start()]}{new}:{match['rest']}{text[match.end() :]}"
            notes.append(f"renamed {old} -> {new}")
    return text, notes


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in {**RENAMED, **KEPT}:
        known = ", ".join({**RENAMED, **KEPT})
        print("usage: migrate_answers.py VERSION [ANSWERS_FILE]; VERSION:", known, file=sys.stderr)
        return 2
    answers_file = Path(argv[1] if len(argv) > 1 else ".copier-answers.yml")
    if not answers_file.is_file():
        print(f"migrate_answers: {answers_file} not found; nothing to migrate", file=sys.stderr)
        return 0
    text, notes = rename_keys(answers_file.read_text(encoding="utf-8"), RENAMED.get(argv[0], {}))
    text, kept = keep_answers(text, KEPT.get(argv[0], {}))
    notes += kept
    if notes:
        answers_file.write_text(text, encoding="utf-8")
        print(f"migrate_answers {argv[0]}: " + "; ".join(notes), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
