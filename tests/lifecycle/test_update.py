"""``copier update`` keeps users' edits, brings template changes, and migrates old answers.

Each test works in a temporary clone of the template snapshot (tests/conftest.py), tags
releases there (never in the real repository), renders a project at one tag, commits and
edits it as a user would, then runs the same ``copier update`` command the docs give
(docs/updating.md) through Copier's command line.
"""

from __future__ import annotations

import filecmp
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.support.generated import project_module
from tests.support.repo import git, run_generated_tests, snapshot_template

CONFLICT = re.compile(r"^(<<<<<<< |>>>>>>> )", re.M)
PKG = "minilm_embeddings"  # the default package name
CONFIG_JINJA = "template/src/{{ package_name }}/settings.py.jinja"
NEW_TOKENS_V1 = (
    'max_new_tokens: int = Field(64, ge=1, description="text-generation: tokens to generate")'
)
NEW_TOKENS_V2 = NEW_TOKENS_V1.replace("Field(64,", "Field(96,")
SERVING_DOC = "template/docs/serving.md.jinja"
NEW_TOKENS_DOC_V1 = "| `{{ env_prefix }}MAX_NEW_TOKENS` | `64` |"


def copier_cli(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """``copier <args>`` as a user types it, in ``project``."""
    done = subprocess.run(
        [sys.executable, "-m", "copier", *args],
        cwd=project,
        env={**os.environ, "GIT_AUTHOR_NAME": "user", "GIT_AUTHOR_EMAIL": "user@example.invalid"},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, f"copier {' '.join(args)}:\n{done.stdout}\n{done.stderr}"
    return done


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def copy_at(template: Path, ref: str, dst: Path, data: dict[str, Any] | None = None) -> Path:
    """Render ``template`` at ``ref`` into ``dst`` and commit it, as `copier copy` + `git`."""
    args = ["copy", "--trust", "--defaults", "--quiet", "--vcs-ref", ref]
    for key, value in (data or {}).items():
        text = value if isinstance(value, str) else yaml.safe_dump(value, default_flow_style=True)
        args += ["--data", f"{key}={text.strip()}"]
    copier_cli(template.parent, *args, str(template), str(dst))
    git(dst, "init", "-q", "-b", "main")
    git(dst, "add", "-A")
    git(dst, "commit", "-q", "-m", f"generated from the template at {ref}")
    return dst


def release(template: Path, tag: str, message: str) -> None:
    git(template, "add", "-A")
    git(template, "commit", "-q", "--allow-empty", "-m", message)
    git(template, "tag", tag)


def leftovers(project: Path) -> tuple[list[str], list[str]]:
    """(.rej files, files with conflict markers) anywhere in the project."""
    rej, marked = [], []
    for path in project.rglob("*"):
        if ".git" in path.parts or not path.is_file():
            continue
        if path.suffix == ".rej":
            rej.append(str(path.relative_to(project)))
        elif CONFLICT.search(path.read_text(encoding="utf-8", errors="replace")):
            marked.append(str(path.relative_to(project)))
    return rej, marked


def answers(project: Path) -> dict[str, Any]:
    return yaml.safe_load((project / ".copier-answers.yml").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def two_releases(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A template clone with v0.1.0 (the snapshot) and v0.2.0 (three template changes)."""
    template = snapshot_template(tmp_path_factory.mktemp("template"))
    git(template, "tag", "v0.1.0")
    edit(template / CONFIG_JINJA, NEW_TOKENS_V1, NEW_TOKENS_V2)
    # a release that changes a default documents it (the generated test_settings_doc checks)
    edit(template / SERVING_DOC, NEW_TOKENS_DOC_V1, NEW_TOKENS_DOC_V1.replace("`64`", "`96`"))
    readme = template / "template" / "README.md.jinja"
    readme.write_text(
        readme.read_text(encoding="utf-8") + "\nTemplate v0.2.0 added this paragraph.\n",
        encoding="utf-8",
    )
    (template / "template" / "docs").mkdir(exist_ok=True)
    (template / "template" / "docs" / "added-in-v0.2.0.md").write_text("# New in v0.2.0\n")
    release(template, "v0.2.0", "feat: v0.2.0 changes")
    return template


def _edit_a_manifest_value(project: Path) -> tuple[Path, str] | None:
    """Change ``replicas:`` in the first Kubernetes manifest that has one (if k8s/ exists)."""
    for manifest in sorted((project / "k8s").rglob("*.yaml")) if (project / "k8s").is_dir() else []:
        text = manifest.read_text(encoding="utf-8")
        found = re.search(r"^(\s+replicas: )(\d+)$", text, re.M)
        if found:
            line = f"{found[1]}{int(found[2]) + 4}"
            manifest.write_text(text.replace(found[0], line, 1), encoding="utf-8")
            return manifest, line
    return None


def test_update_keeps_user_edits_and_brings_template_changes(
    two_releases: Path, tmp_path: Path
) -> None:
    project = copy_at(two_releases, "v0.1.0", tmp_path / "project")
    # The user's edits: a generated module, a setting's value, a new file, a manifest value.
    model_py = project / "src" / PKG / "runtime" / "torch_predictors.py"
    user_function = (
        '\n\ndef user_helper() -> str:\n    """Added by the user."""\n    return "mine"\n'
    )
    model_py.write_text(model_py.read_text(encoding="utf-8") + user_function, encoding="utf-8")
    config_py = project / "src" / PKG / "settings.py"
    edit(
        config_py,
        "max_inputs_per_request: int = Field(256,",
        "max_inputs_per_request: int = Field(512,",
    )
    (project / "src" / PKG / "custom.py").write_text('"""The user\'s own module."""\n')
    manifest_edit = _edit_a_manifest_value(project)
    (project / "tests" / "test_cli.py").unlink()  # a generated file the user does not want
    git(project, "add", "-A")
    git(project, "commit", "-q", "-m", "user edits")

    copier_cli(project, "update", "--defaults", "--trust", "--quiet")

    assert answers(project)["_commit"] == "v0.2.0", "update goes to the latest release tag"
    # the user's edits survive
    assert model_py.read_text(encoding="utf-8").endswith(user_function)
    assert "max_inputs_per_request: int = Field(512," in config_py.read_text(encoding="utf-8")
    assert (project / "src" / PKG / "custom.py").is_file()
    assert not (project / "tests" / "test_cli.py").exists(), "a deleted file stays deleted"
    if manifest_edit is not None:
        manifest, line = manifest_edit
        assert line in manifest.read_text(encoding="utf-8").splitlines()
    # the template's changes arrive
    assert NEW_TOKENS_V2 in config_py.read_text(encoding="utf-8")
    assert "Template v0.2.0 added this paragraph." in (project / "README.md").read_text()
    assert (project / "docs" / "added-in-v0.2.0.md").is_file()
    # and nothing is left to clean up
    assert leftovers(project) == ([], [])


def test_conflicting_edit_leaves_inline_markers_not_rej_files(
    two_releases: Path, tmp_path: Path
) -> None:
    project = copy_at(two_releases, "v0.1.0", tmp_path / "project")
    config_py = project / "src" / PKG / "settings.py"
    mine = NEW_TOKENS_V1.replace("Field(64,", "Field(128,")
    edit(config_py, NEW_TOKENS_V1, mine)  # the template changes this very line in v0.2.0
    git(project, "commit", "-q", "-am", "user: longer generations")

    copier_cli(project, "update", "--defaults", "--trust", "--quiet", "--conflict", "inline")

    rej, marked = leftovers(project)
    assert rej == []
    assert marked == [f"src/{PKG}/settings.py"]
    text = config_py.read_text(encoding="utf-8")
    ours = text.index("<<<<<<< before updating")
    middle = text.index("=======", ours)
    theirs = text.index(">>>>>>> after updating", middle)
    assert mine in text[ours:middle] and NEW_TOKENS_V2 in text[middle:theirs]


def test_answer_change_rerenders_every_artifact_consistently(
    two_releases: Path, tmp_path: Path
) -> None:
    """Changing answers on update gives exactly what a fresh copy with those answers gives.

    Compared file by file, so every artifact (project.py, Makefile, CI, and the Dockerfiles
    and manifests where they exist) is covered; then the generated tests run on the result.
    """
    from extensions.context import derive

    project = copy_at(two_releases, "v0.2.0", tmp_path / "project")
    new = {"accelerator": "nvidia-l4", "deploy_targets": ["kubernetes", "vertex"]}
    copier_cli(
        project,
        "update",
        "--defaults",
        "--trust",
        "--quiet",
        "--vcs-ref",
        ":current:",
        "--data",
        "accelerator=nvidia-l4",
        "--data",
        "deploy_targets=[kubernetes, vertex]",
    )
    recorded = answers(project)
    assert recorded["accelerator"] == "nvidia-l4"
    assert sorted(recorded["deploy_targets"]) == ["kubernetes", "vertex"]

    fresh = copy_at(two_releases, "v0.2.0", tmp_path / "fresh", new)
    ignore = {".git", ".copier-answers.yml"}
    files = {
        str(p.relative_to(project))
        for p in project.rglob("*")
        if p.is_file() and not ignore & set(p.relative_to(project).parts)
    }
    fresh_files = {
        str(p.relative_to(fresh))
        for p in fresh.rglob("*")
        if p.is_file() and not ignore & set(p.relative_to(fresh).parts)
    }
    assert files == fresh_files
    differ = [
        name for name in sorted(files) if not filecmp.cmp(project / name, fresh / name, False)
    ]
    assert not differ, f"update and fresh copy differ in {differ}"

    hw = derive(recorded)["hw"]
    hardware = project_module(project).HARDWARE
    assert hardware.key == "nvidia-l4" and hardware.min_driver == hw["min_driver"]
    assert f"whl/{hw['torch_index']}" in (project / "Makefile").read_text(encoding="utf-8")
    assert leftovers(project) == ([], [])

    git(project, "add", "-A")
    git(project, "commit", "-q", "-m", "switch to L4")
    run_generated_tests(project)


def test_migration_renames_an_old_answer_before_the_update(tmp_path: Path) -> None:
    """A project from a release that asked ``gpu`` keeps its GPU when updated to v0.1.0.

    v0.0.9 is built in the clone from the current template by asking ``gpu`` (the old
    question) and deriving ``accelerator`` from it; without the v0.1.0 migration in
    copier.yml, the update would fall back to accelerator=cpu.
    """
    template = snapshot_template(tmp_path / "template")
    copier_yml = template / "copier.yml"
    current = copier_yml.read_text(encoding="utf-8")
    config = yaml.safe_load(current)
    old = {}
    for key, question in config.items():
        if key == "accelerator":
            # The old question, without today's validator (it names `accelerator`).
            old["gpu"] = {k: v for k, v in question.items() if k != "validator"}
            old["accelerator"] = {"type": "str", "default": "{{ gpu }}", "when": False}
        else:
            old[key] = question
    copier_yml.write_text(yaml.safe_dump(old, sort_keys=False), encoding="utf-8")
    release(template, "v0.0.9", "feat: the old question name")
    copier_yml.write_text(current, encoding="utf-8")
    release(template, "v0.1.0", "feat!: ask accelerator instead of gpu")

    project = copy_at(template, "v0.0.9", tmp_path / "project", {"gpu": "nvidia-l4"})
    assert answers(project)["gpu"] == "nvidia-l4" and "accelerator" not in answers(project)
    assert project_module(project).HARDWARE.key == "nvidia-l4"

    done = copier_cli(project, "update", "--defaults", "--trust", "--vcs-ref", "v0.1.0")

    recorded = answers(project)
    assert recorded["accelerator"] == "nvidia-l4" and "gpu" not in recorded
    assert recorded["_commit"] == "v0.1.0"
    assert project_module(project).HARDWARE.key == "nvidia-l4"
    assert "renamed gpu -> accelerator" in done.stderr
    assert leftovers(project) == ([], [])


def test_migration_does_not_run_between_later_releases(two_releases: Path, tmp_path: Path) -> None:
    project = copy_at(two_releases, "v0.1.0", tmp_path / "project")
    done = copier_cli(project, "update", "--defaults", "--trust")
    ran = [line for line in (done.stdout + done.stderr).splitlines() if "migrate_answers" in line]
    # v0.2.0's own migration (engine) may run; v0.1.0's renames may not
    assert not [line for line in ran if "v0.1.0" in line or "renamed" in line], ran


def test_update_script_finds_and_applies_the_latest_release(
    two_releases: Path, tmp_path: Path
) -> None:
    """The script the scheduled workflow runs: check, then apply with a pull-request body."""
    project = copy_at(two_releases, "v0.1.0", tmp_path / "project")
    script = [sys.executable, ".github/scripts/template_update.py"]
    outputs = tmp_path / "github-output"
    env = {**os.environ, "GITHUB_OUTPUT": str(outputs)}
    run = {"cwd": project, "env": env, "capture_output": True, "text": True, "timeout": 300}

    checked = subprocess.run([*script, "check"], **run)  # type: ignore[call-overload]
    assert checked.returncode == 0, checked.stderr
    assert outputs.read_text().splitlines() == ["current=v0.1.0", "latest=v0.2.0", "update=true"]

    body = tmp_path / "body.md"
    applied = subprocess.run([*script, "apply", "--body", str(body)], **run)  # type: ignore[call-overload]
    assert applied.returncode == 0, applied.stderr
    assert answers(project)["_commit"] == "v0.2.0"
    assert "conflicts=0" in applied.stdout
    assert "merged cleanly" in body.read_text()

    git(project, "add", "-A")
    git(project, "commit", "-q", "-m", "update")
    outputs.unlink()
    again = subprocess.run([*script, "check"], **run)  # type: ignore[call-overload]
    assert "update=false" in outputs.read_text().splitlines(), again.stdout


def test_update_script_explains_an_untagged_template(tmp_path: Path) -> None:
    template = snapshot_template(tmp_path / "template")
    project = copy_at(template, "HEAD", tmp_path / "project")
    done = subprocess.run(
        [sys.executable, ".github/scripts/template_update.py", "check"],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2
    assert "has no release tags" in done.stderr and "tag a release" in done.stderr


def test_update_script_lists_conflicts_in_the_pull_request_body(
    two_releases: Path, tmp_path: Path
) -> None:
    project = copy_at(two_releases, "v0.1.0", tmp_path / "project")
    edit(project / "src" / PKG / "settings.py", NEW_TOKENS_V1, NEW_TOKENS_V1.replace("64", "128"))
    git(project, "commit", "-q", "-am", "user: longer generations")
    body = tmp_path / "body.md"
    done = subprocess.run(
        [sys.executable, ".github/scripts/template_update.py", "apply", "--body", str(body)],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert "conflicts=1" in done.stdout
    text = body.read_text()
    assert "Conflicts to resolve" in text and f"- `src/{PKG}/settings.py`" in text


def test_a_gpu_generation_project_from_before_the_engine_question_keeps_the_builtin_engine(
    tmp_path: Path,
) -> None:
    """v0.2.0 asks ``engine`` and defaults GPU text generation to vLLM. A project made by an
    older release served with the built-in server; ``copier update --defaults`` must not
    switch its engine silently (the v0.2.0 migration records ``engine: builtin``).

    v0.1.9 is built in the clone from the current template without the ``engine`` question.
    """
    template = snapshot_template(tmp_path / "template")
    copier_yml = template / "copier.yml"
    current = copier_yml.read_text(encoding="utf-8")
    old = {k: v for k, v in yaml.safe_load(current).items() if k != "engine"}
    copier_yml.write_text(yaml.safe_dump(old, sort_keys=False), encoding="utf-8")
    release(template, "v0.1.9", "feat: before the engine question")
    copier_yml.write_text(current, encoding="utf-8")
    release(template, "v0.2.0", "feat: the engine question (vLLM for GPU text generation)")

    data = {"task": "text-generation", "accelerator": "nvidia-l4"}
    project = copy_at(template, "v0.1.9", tmp_path / "project", data)
    assert "engine" not in answers(project)
    assert project_module(project).ENGINE == "builtin"

    done = copier_cli(project, "update", "--defaults", "--trust", "--vcs-ref", "v0.2.0")

    recorded = answers(project)
    assert recorded["engine"] == "builtin" and recorded["_commit"] == "v0.2.0"
    assert project_module(project).ENGINE == "builtin"
    assert not (project / "docs" / "vllm.md").exists()
    assert "kept engine: builtin" in done.stderr
    assert leftovers(project) == ([], [])

    # A new project of the same answers gets the new default.
    fresh = copy_at(template, "v0.2.0", tmp_path / "fresh", data)
    assert answers(fresh)["engine"] == "vllm"
