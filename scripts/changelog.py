"""CHANGELOG.md from the conventional commits, by git-cliff with cliff.toml (make changelog).

    python scripts/changelog.py                     # tag the releases, write CHANGELOG.md
    python scripts/changelog.py --next v0.2.0       # title unreleased commits as v0.2.0
    python scripts/changelog.py --check             # exit 1 if CHANGELOG.md is stale
    python scripts/changelog.py --bump              # print the next version the commits ask for

A thin wrapper: git-cliff does the work (sections, versions, dates: cliff.toml). This adds
what git-cliff lacks: release tags first (scripts/release_tags.py, since a clone has none),
a ``--check`` mode, and the template's cliff.toml whichever repository ``--root`` names.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
CONFIG = HERE.parent / "cliff.toml"


def git_cliff() -> str:
    """The git-cliff binary: beside this Python (the .venv), else on PATH."""
    beside = Path(sys.executable).parent / "git-cliff"
    if beside.is_file():
        return str(beside)
    found = shutil.which("git-cliff")
    if found is None:
        sys.exit(
            "git-cliff not found: run `make setup`, or pip install it at the version pinned in "
            "requirements/constraints.txt"
        )
    return found


def cliff(root: Path, *args: str) -> str:
    done = subprocess.run(
        [git_cliff(), "--config", str(CONFIG), "--repository", str(root), *args],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        sys.exit(f"git-cliff failed:\n{done.stderr}")
    return done.stdout


def tag_releases(root: Path) -> None:
    done = subprocess.run(
        [sys.executable, str(HERE / "release_tags.py"), "--root", str(root), "--quiet"],
        stdout=sys.stderr,  # stdout is the changelog or the version
        check=False,
    )
    if done.returncode != 0:
        sys.exit(done.returncode)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Build CHANGELOG.md from conventional commits")
    parser.add_argument("--root", type=Path, default=HERE.parent)
    parser.add_argument("--output", type=Path, help="default: ROOT/CHANGELOG.md")
    parser.add_argument("--next", dest="next_version", help="title for the unreleased commits")
    parser.add_argument("--check", action="store_true", help="fail if the file is not current")
    parser.add_argument("--bump", action="store_true", help="print the next version and exit")
    args = parser.parse_args(argv)
    tag_releases(args.root)
    if args.bump:
        print(cliff(args.root, "--bumped-version").strip())
        return 0
    output = args.output or args.root / "CHANGELOG.md"
    text = cliff(args.root, *(["--tag", args.next_version] if args.next_version else []))
    if args.check:
        current = output.read_text(encoding="utf-8") if output.exists() else ""
        if current != text:
            print(f"{output} is stale: run make changelog", file=sys.stderr)
            return 1
        return 0
    output.write_text(text, encoding="utf-8")
    print(f"wrote {output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
