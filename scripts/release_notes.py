"""Release notes of one release tag: its section of the changelog, by git-cliff.

    python scripts/release_notes.py v0.2.0            # Markdown on stdout
    python scripts/release_notes.py v0.2.0 --root DIR

The release workflow (.github/workflows/release.yml) publishes this as the GitHub release's
notes: the tag's section of what git-cliff writes with the template's cliff.toml (the same
text as in CHANGELOG.md), without its title. The tag must exist (``make tags`` makes it from
its ``chore(release)`` commit).
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from pathlib import Path

from changelog import CONFIG, git_cliff


def notes(root: Path, tag: str) -> str:
    """The ``## <tag> (date)`` section of what ``make changelog`` writes, without its title."""
    known = subprocess.run(
        ["git", "rev-parse", "--verify", "--quiet", f"refs/tags/{tag}"],
        cwd=root,
        capture_output=True,
        check=False,
    )
    if known.returncode != 0:
        raise SystemExit(f"no tag {tag}: run `make tags` first (a clone has none)")
    done = subprocess.run(
        [git_cliff(), "--config", str(CONFIG), "--repository", str(root), "--strip", "header"],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"git-cliff failed:\n{done.stderr}")
    found = re.search(
        rf"^## {re.escape(tag)} \(.*?\)\n(?P<body>.*?)(?=^## |\Z)", done.stdout, re.M | re.S
    )
    if found is None:
        raise SystemExit(f"git-cliff wrote no section for {tag}")
    return found["body"].strip() + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Release notes of one tag, by git-cliff")
    parser.add_argument("tag")
    parser.add_argument("--root", type=Path, default=Path(__file__).resolve().parents[1])
    args = parser.parse_args(argv)
    sys.stdout.write(notes(args.root, args.tag))
    return 0


if __name__ == "__main__":
    sys.exit(main())
