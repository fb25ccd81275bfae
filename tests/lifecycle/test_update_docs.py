"""The commands of docs/updating.md's "Which questions an update asks" and "copier recopy".

v0.2.0 of a template clone adds one question (``log_format``). Interactive runs go through
a pseudo-terminal (pexpect), pressing Enter at each prompt and recording which questions
Copier asked, so the docs' claims are checked against what Copier really does:
``--defaults`` asks nothing, ``--skip-answered`` asks only the new question, no flag asks
every question again; ``recopy`` re-renders from scratch and overwrites edits.
"""

from __future__ import annotations

import re
import sys
import time
from pathlib import Path

import pytest

from tests.lifecycle.test_update import answers, copier_cli, copy_at, edit, release
from tests.support.repo import git, snapshot_template

pexpect = pytest.importorskip("pexpect")

NEW_QUESTION = """
log_format:
  type: str
  help: Format of the server's log lines (new in v0.2.0)
  default: json
  choices: [json, text]
"""
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


@pytest.fixture(scope="module")
def new_question(tmp_path_factory: pytest.TempPathFactory) -> Path:
    template = snapshot_template(tmp_path_factory.mktemp("template"))
    git(template, "tag", "v0.1.0")
    copier_yml = template / "copier.yml"
    copier_yml.write_text(copier_yml.read_text(encoding="utf-8") + NEW_QUESTION)
    release(template, "v0.2.0", "feat: ask log_format")
    return template


def asked(project: Path, *args: str) -> list[str]:
    """Run ``copier <args>`` in a terminal, Enter at every prompt; the questions' help texts."""
    child = pexpect.spawn(
        sys.executable,
        ["-m", "copier", *args],
        cwd=str(project),
        encoding="utf-8",
        timeout=120,
        dimensions=(50, 250),
    )
    questions: list[str] = []
    while child.expect([pexpect.EOF, r"🎤[^\r\n]*"]) == 1:
        text = ANSI.sub("", child.after).removeprefix("🎤").strip()
        if text not in questions:
            questions.append(text)
        time.sleep(0.2)  # the prompt redraws once before it reads keys
        child.send("\r")
    child.close()
    assert child.exitstatus == 0, child.before
    return questions


def test_defaults_asks_nothing_and_takes_the_new_default(
    new_question: Path, tmp_path: Path
) -> None:
    project = copy_at(new_question, "v0.1.0", tmp_path / "project")
    assert asked(project, "update", "--trust", "--defaults") == []
    assert answers(project)["log_format"] == "json"


def test_skip_answered_asks_only_the_new_question(new_question: Path, tmp_path: Path) -> None:
    project = copy_at(new_question, "v0.1.0", tmp_path / "project")
    questions = asked(project, "update", "--trust", "--skip-answered")
    assert questions == ["Format of the server's log lines (new in v0.2.0)"]
    assert answers(project)["_commit"] == "v0.2.0"


def test_without_flags_every_question_is_asked_again(new_question: Path, tmp_path: Path) -> None:
    project = copy_at(new_question, "v0.1.0", tmp_path / "project")
    questions = asked(project, "update", "--trust")
    assert len(questions) >= 20
    assert questions[0].startswith("Human-readable name of the service")
    assert questions[-1] == "Format of the server's log lines (new in v0.2.0)"
    assert answers(project)["project_name"] == "MiniLM Embeddings", "Enter keeps the answer"


def test_recopy_overwrites_edits_and_keeps_answers(new_question: Path, tmp_path: Path) -> None:
    project = copy_at(new_question, "v0.1.0", tmp_path / "project", {"port": "8500"})
    settings = project / "src" / "minilm_embeddings" / "settings.py"
    original = settings.read_text(encoding="utf-8")
    edit(
        settings,
        "max_inputs_per_request: int = Field(256,",
        "max_inputs_per_request: int = Field(512,",
    )
    (project / "NOTES.md").write_text("ours\n")
    git(project, "add", "-A")
    git(project, "commit", "-q", "-m", "user edits")

    copier_cli(project, "recopy", "--trust", "--defaults", "--overwrite", "--quiet")

    assert settings.read_text(encoding="utf-8") == original, "the edit is gone: recopy"
    assert (project / "NOTES.md").read_text() == "ours\n", "files it does not render stay"
    recorded = answers(project)
    assert recorded["port"] == 8500 and recorded["_commit"] == "v0.2.0"
    assert git(project, "diff", "--stat").strip(), "git diff shows what to take back"
