"""Tag each ``chore(release): vX.Y.Z`` commit reachable from HEAD with ``vX.Y.Z``.

    python3 scripts/release_tags.py              # create the missing tags (make tags)
    python3 scripts/release_tags.py --dry-run    # list what it would create

A release is a commit on main whose subject is ``chore(release): vX.Y.Z`` (a PEP 440
pre-release such as ``v0.2.0rc1`` too). Only branches travel between our machines, so a clone
has no tags and tools that read tags (git-cliff, Copier) would find no release; this script
puts them back from the history. Idempotent: a tag already on its release commit is skipped;
a tag of that name on another commit is an error (exit 1), never moved.

The tags are annotated, and made reproducible: tagger and date are the release commit's
committer and commit date, the message is the version, so every clone creates the very same
tag object. Standard library and git only: no virtual environment needed.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

RELEASE = re.compile(r"^chore\(release\): (?P<tag>v\d+\.\d+\.\d+(?:(?:a|b|rc)\d+)?)$")
FIELD, RECORD = "\x1f", "\x1e"


class TagError(Exception):
    """A release tag that cannot be created as asked; the message says why."""


@dataclass(frozen=True)
class Release:
    tag: str
    sha: str
    committer_name: str
    committer_email: str
    committer_date: str


def _git(root: Path, *args: str, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(
        ["git", *args],
        cwd=root,
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, **(env or {})},
    )
    if done.returncode != 0:
        raise TagError(f"git {' '.join(args)} failed: {done.stderr.strip()}")
    return done.stdout


def releases(root: Path) -> list[Release]:
    """The release commits reachable from HEAD, oldest first."""
    fmt = FIELD.join(["%H", "%s", "%cn", "%ce", "%cI"]) + RECORD
    out = _git(root, "log", "--reverse", f"--format={fmt}", "HEAD")
    found: dict[str, Release] = {}
    for record in out.split(RECORD):
        if not record.strip():
            continue
        sha, subject, name, email, date = record.strip("\n").split(FIELD)
        match = RELEASE.match(subject.strip())
        if match is None:
            continue
        release = Release(match["tag"], sha, name, email, date)
        if release.tag in found:
            raise TagError(
                f"{release.tag} is released twice: commits {found[release.tag].sha[:7]} "
                f"and {sha[:7]} both say 'chore(release): {release.tag}'"
            )
        found[release.tag] = release
    return list(found.values())


def existing(root: Path, tag: str) -> str | None:
    """The commit an existing tag points to, or None."""
    out = _git(root, "tag", "--list", tag)
    if not out.strip():
        return None
    return _git(root, "rev-parse", f"refs/tags/{tag}^{{commit}}").strip()


def plan(root: Path) -> tuple[list[Release], list[Release]]:
    """(releases to tag, releases already tagged); TagError on a conflicting tag."""
    missing, present = [], []
    conflicts = []
    for release in releases(root):
        target = existing(root, release.tag)
        if target is None:
            missing.append(release)
        elif target == release.sha:
            present.append(release)
        else:
            conflicts.append(
                f"tag {release.tag} points to {target[:7]}, but the release commit "
                f"'chore(release): {release.tag}' is {release.sha[:7]}"
            )
    if conflicts:
        raise TagError(
            "\n".join(conflicts)
            + "\nA published tag is never moved (docs/releasing.md): find out which commit is"
            " the release, then delete the wrong tag locally (git tag -d) or fix the history."
        )
    return missing, present


def create(root: Path, release: Release) -> None:
    env = {
        "GIT_COMMITTER_NAME": release.committer_name,
        "GIT_COMMITTER_EMAIL": release.committer_email,
        "GIT_COMMITTER_DATE": release.committer_date,
    }
    _git(root, "tag", "-a", release.tag, "-m", release.tag, release.sha, env=env)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Tag each 'chore(release): vX.Y.Z' commit reachable from HEAD"
    )
    parser.add_argument("--root", type=Path, default=Path(__file__).resolve().parent.parent)
    parser.add_argument("--dry-run", action="store_true", help="list the tags, create none")
    parser.add_argument("-q", "--quiet", action="store_true", help="print only what changed")
    args = parser.parse_args(argv)
    try:
        missing, present = plan(args.root)
        if not args.quiet:
            for release in present:
                print(f"exists  {release.tag} {release.sha[:7]}")
        for release in missing:
            if args.dry_run:
                print(f"would create {release.tag} {release.sha[:7]}")
            else:
                create(args.root, release)
                print(f"created {release.tag} {release.sha[:7]}")
    except TagError as error:
        print(f"release_tags: {error}", file=sys.stderr)
        return 1
    if not missing and not args.quiet:
        print("no tag to create")
    return 0


if __name__ == "__main__":
    sys.exit(main())
