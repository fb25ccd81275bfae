"""Build CHANGELOG.md from the git history's conventional commits, one section per tag.

    python scripts/changelog.py                     # write CHANGELOG.md
    python scripts/changelog.py --next v0.2.0       # title unreleased commits as v0.2.0
    python scripts/changelog.py --check             # exit 1 if CHANGELOG.md is stale
    python scripts/changelog.py --bump              # print the next version the commits ask for

Release tags are ``vMAJOR.MINOR.PATCH`` (docs/releasing.md). Commits are grouped by type:
``feat`` -> Features, ``fix`` -> Fixes, ``perf``, ``docs``, ``refactor``; a ``!`` after the
type or a ``BREAKING CHANGE:`` footer lists the commit under Breaking changes as well. Other
types (test, ci, build, chore, style) are left out; subjects that are not conventional go
under Other so nothing is lost silently.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from packaging.version import InvalidVersion, Version

CONVENTIONAL = re.compile(
    r"^(?P<type>[a-z]+)(?:\((?P<scope>[^)]+)\))?(?P<bang>!)?: (?P<description>.+)$"
)
SECTIONS = {
    "feat": "Features",
    "fix": "Fixes",
    "perf": "Performance",
    "docs": "Documentation",
    "refactor": "Refactoring",
}
HIDDEN = {"test", "ci", "build", "chore", "style", "revert"}
FIELD, RECORD = "\x1f", "\x1e"


@dataclass(frozen=True)
class Commit:
    sha: str
    subject: str
    body: str

    @property
    def parsed(self) -> re.Match[str] | None:
        return CONVENTIONAL.match(self.subject)

    @property
    def breaking(self) -> bool:
        match = self.parsed
        return bool(match and match["bang"]) or "BREAKING CHANGE:" in self.body

    def line(self) -> str:
        match = self.parsed
        if match is None:
            return f"- {self.subject} ({self.sha[:7]})"
        scope = f"**{match['scope']}**: " if match["scope"] else ""
        return f"- {scope}{match['description']} ({self.sha[:7]})"


def _git(root: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=root, capture_output=True, text=True, check=True
    ).stdout


def release_tags(root: Path) -> list[str]:
    """Tags that are versions, oldest first (PEP 440 order, like Copier)."""
    tags = []
    for tag in _git(root, "tag", "--list").split():
        try:
            tags.append((Version(tag), tag))
        except InvalidVersion:
            continue
    return [tag for _, tag in sorted(tags)]


def commits(root: Path, revision_range: str) -> list[Commit]:
    out = _git(root, "log", "--no-merges", f"--format=%H{FIELD}%s{FIELD}%b{RECORD}", revision_range)
    found = []
    for record in out.split(RECORD):
        if record.strip():
            sha, subject, body = record.strip("\n").split(FIELD, 2)
            found.append(Commit(sha, subject.strip(), body))
    return found


def section(title: str, entries: list[Commit]) -> list[str]:
    lines = [f"## {title}", ""]
    breaking = [c for c in entries if c.breaking]
    if breaking:
        lines += ["### Breaking changes", "", *[c.line() for c in breaking], ""]
    for kind, heading in SECTIONS.items():
        picked = [c for c in entries if c.parsed and c.parsed["type"] == kind]
        if picked:
            lines += [f"### {heading}", "", *[c.line() for c in picked], ""]
    other = [c for c in entries if not c.parsed]
    other += [
        c
        for c in entries
        if c.parsed and c.parsed["type"] not in SECTIONS and c.parsed["type"] not in HIDDEN
    ]
    if other:
        lines += ["### Other", "", *[c.line() for c in other], ""]
    if len(lines) == 2:
        lines += ["No user-facing changes.", ""]
    return lines


def render(root: Path, next_version: str | None = None) -> str:
    tags = release_tags(root)
    lines = [
        "# Changelog",
        "",
        "Built from the conventional commits by `scripts/changelog.py`; do not edit by hand.",
        "",
    ]
    unreleased = commits(root, f"{tags[-1]}..HEAD" if tags else "HEAD")
    if unreleased:
        title = f"{next_version} ({date.today().isoformat()})" if next_version else "Unreleased"
        lines += section(title, unreleased)
    for index in reversed(range(len(tags))):
        newer, older = tags[index], tags[index - 1] if index else None
        day = _git(root, "log", "-1", "--format=%as", newer).strip()
        span = f"{older}..{newer}" if older else newer
        lines += section(f"{newer} ({day})", commits(root, span))
    return "\n".join(lines).rstrip("\n") + "\n"


def next_version(root: Path) -> str:
    """The version the unreleased commits ask for (semver; 0.x: breaking bumps minor)."""
    tags = release_tags(root)
    if not tags:
        return "v0.1.0"
    last = Version(tags[-1])
    pending = commits(root, f"{tags[-1]}..HEAD")
    major, minor, patch = last.major, last.minor, last.micro
    if any(c.breaking for c in pending):
        return f"v{major}.{minor + 1}.0" if major == 0 else f"v{major + 1}.0.0"
    if any(c.parsed and c.parsed["type"] == "feat" for c in pending):
        return f"v{major}.{minor + 1}.0"
    return f"v{major}.{minor}.{patch + 1}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Build CHANGELOG.md from conventional commits")
    parser.add_argument("--root", type=Path, default=Path(__file__).resolve().parent.parent)
    parser.add_argument("--output", type=Path, help="default: ROOT/CHANGELOG.md")
    parser.add_argument("--next", dest="next_version", help="title for the unreleased commits")
    parser.add_argument("--check", action="store_true", help="fail if the file is not current")
    parser.add_argument("--bump", action="store_true", help="print the next version and exit")
    args = parser.parse_args(argv)
    if args.bump:
        print(next_version(args.root))
        return 0
    output = args.output or args.root / "CHANGELOG.md"
    text = render(args.root, args.next_version)
    if args.check:
        current = output.read_text(encoding="utf-8") if output.exists() else ""
        if current != text:
            print(f"{output} is stale: run python scripts/changelog.py", file=sys.stderr)
            return 1
        return 0
    output.write_text(text, encoding="utf-8")
    print(f"wrote {output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
