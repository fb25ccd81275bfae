"""After ``copier update``: keep the user's edits to files the update removed, list conflicts.

Copier runs this at the end of every update (a ``_migrations`` entry without ``version`` in
copier.yml, ``_stage == 'after'``), in the project's directory. By then Copier has deleted
every file the old release rendered and the new one does not (a dropped deploy target, a
file a release moved), edited or not. The update started from a clean tree, so ``HEAD``
still holds those files: each one whose content differs from what the old release rendered
(the user edited it, or it is the user's own) is written back under
``.template-kept/<release>/`` with a README that says what to do (ADR 0084). User files
left in a folder the template no longer renders (an overlay of a dropped ``k8s/``) are
listed too. Then the files left with conflict markers are listed, because Copier itself
says nothing about them and exits 0.

It never fails the update: it only restores and reports. Standard library, PyYAML and
Copier (the interpreter that runs Copier runs this too).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

ANSWERS = ".copier-answers.yml"
KEPT = Path(".template-kept")
MARKER = re.compile(rb"^(<<<<<<< before updating|>>>>>>> after updating)", re.M)


def _git(*args: str) -> bytes:
    done = subprocess.run(["git", *args], capture_output=True, check=True)
    return done.stdout


def removed_by_update() -> list[str]:
    """Files in HEAD (so committed before the update) that the update deleted."""
    out = _git("diff", "--relative", "--name-only", "-z", "--diff-filter=D", "HEAD", "--")
    return sorted(name for name in out.decode().split("\0") if name and name != ANSWERS)


def render_old_release(dst: Path) -> None:
    """Render what the project was generated from: HEAD's answers at HEAD's ``_commit``."""
    from copier import run_copy

    answers = yaml.safe_load(_git("show", f"HEAD:./{ANSWERS}")) or {}
    data = {key: value for key, value in answers.items() if not key.startswith("_")}
    run_copy(
        str(answers["_src_path"]),
        str(dst),
        data=data,
        vcs_ref=str(answers["_commit"]),
        defaults=True,
        unsafe=True,
        quiet=True,
        skip_tasks=True,
    )


def _folder_for(version: str) -> Path:
    name = re.sub(r"[^A-Za-z0-9._-]", "_", version or "update")
    folder, n = KEPT / name, 1
    while folder.exists():
        n += 1
        folder = KEPT / f"{name}-{n}"
    return folder


def keep_edited(removed: list[str], old: Path, version: str) -> tuple[Path | None, list[str]]:
    """Write back each removed file whose content is not the old release's; return them."""
    kept: list[str] = []
    folder = _folder_for(version)
    for name in removed:
        content = _git("show", f"HEAD:./{name}")
        rendered = old / name
        if rendered.is_file() and rendered.read_bytes() == content:
            continue  # the template's file, untouched: removing it loses nothing
        target = folder / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)
        kept.append(name)
    return (folder if kept else None), kept


def orphans(removed: list[str], old: Path) -> list[str]:
    """User files left in a folder where the update removed every template file.

    Such a folder now holds only files that were committed before the update and that the
    old release did not render: the user's own (an overlay in a dropped ``k8s/``).
    """
    tracked = set(_git("ls-files", "-z").decode().split("\0"))
    emptied = set()
    for name in removed:
        for parent in Path(name).parents:
            if parent == Path(".") or not parent.is_dir():
                continue
            present = [str(p) for p in parent.rglob("*") if p.is_file()]
            if present and all(p in tracked and not (old / p).exists() for p in present):
                emptied.add(parent)
    top = {d for d in emptied if not any(p in emptied for p in d.parents)}
    return sorted(str(p) for folder in top for p in folder.rglob("*") if p.is_file())


def conflicted() -> list[str]:
    """Files the update left with inline conflict markers (or as .rej rejects)."""
    out = _git("status", "--porcelain", "-z", "--untracked-files=all").decode()
    found = []
    for entry in filter(None, out.split("\0")):
        name = entry[3:]
        path = Path(name)
        if name.endswith(".rej") or (path.is_file() and MARKER.search(path.read_bytes())):
            found.append(name)
    return sorted(found)


def write_note(folder: Path, kept: list[str], version: str) -> None:
    lines = [
        f"# Files kept by the template update to {version}",
        "",
        "The update removed these files from the project (the release no longer renders",
        "them: a deploy target was dropped, or the release moved the file), but you had",
        "edited them, so their last committed content is kept here, at the same relative path:",
        "",
        *[f"- `{name}`" for name in kept],
        "",
        "Move what you still need back into the project (a moved file's new place is in the",
        "template's CHANGELOG), then delete this folder and commit. Nothing here is imported,",
        "tested or deployed. See docs/updating.md of the template, 'Files an update removes'.",
        "",
    ]
    (folder / "README.md").write_text("\n".join(lines), encoding="utf-8")


def main() -> int:
    version = os.environ.get("VERSION_TO", "")
    removed = removed_by_update()
    kept: list[str] = []
    left: list[str] = []
    folder = None
    if removed:
        with tempfile.TemporaryDirectory(prefix="template-old-release-") as tmp:
            old = Path(tmp) / "old"
            render_old_release(old)
            folder, kept = keep_edited(removed, old, version)
            left = orphans(removed, old)
    if folder is not None:
        write_note(folder, kept, version)
        print(
            f"template update: this release removes {len(kept)} file(s) you had edited; "
            f"nothing was lost, they are kept in {folder}/ (see its README.md):",
            file=sys.stderr,
        )
        for name in kept:
            print(f"  {name} -> {folder / name}", file=sys.stderr)
    if left:
        print(
            "template update: these files of yours stay where they are, in folders whose "
            "template files this release removed; check what they refer to:",
            file=sys.stderr,
        )
        for name in left:
            print(f"  {name}", file=sys.stderr)
    conflicts = conflicted()
    if conflicts:
        print(
            f"template update: CONFLICTS in {len(conflicts)} file(s): your edit and the "
            "template's change touch the same lines. Keep what you need between "
            "'<<<<<<< before updating' and '>>>>>>> after updating', delete the markers, "
            "then `git add` and commit (pre-commit refuses files that still hold markers):",
            file=sys.stderr,
        )
        for name in conflicts:
            print(f"  {name}", file=sys.stderr)
    elif removed or kept:
        print("template update: no conflicts.", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
