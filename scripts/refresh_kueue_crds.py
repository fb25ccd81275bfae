"""Vendor the v1beta2 schemas of Kueue's CRDs into tests/support/kueue_crds/ from local files.

    python scripts/refresh_kueue_crds.py --source ~/src/kueue --version v0.19.2
    python scripts/refresh_kueue_crds.py --source manifests.yaml --version v0.19.2
    python scripts/refresh_kueue_crds.py --source ~/src/kueue --version v0.19.2 --check

``--source`` is a Kueue checkout at the release tag (its CRDs are read from
``config/components/crd/bases/``), a directory of CRD YAML files, or one YAML file holding
them (the release's ``manifests.yaml``). Nothing is downloaded: fetch the release first
(``git clone --branch v0.19.2 https://github.com/kubernetes-sigs/kueue`` or the release
asset ``manifests.yaml``) wherever the network allows it.

For each kind the tests check (ResourceFlavor, ClusterQueue, LocalQueue) the script writes
``kueue.x-k8s.io_<plural>.json``: the kind, group, served version, scope, the Kueue
release and the version's ``openAPIV3Schema`` exactly as published. The output depends
only on the CRDs and ``--version`` (no dates, no paths), so a checkout and the release's
``manifests.yaml`` give the same files, and running it twice changes nothing. ``--check``
writes nothing and exits 1 when the vendored files differ from what it would write.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import yaml

GROUP = "kueue.x-k8s.io"
VERSION = "v1beta2"
KINDS = ("ResourceFlavor", "ClusterQueue", "LocalQueue")
CRD_BASES = Path("config") / "components" / "crd" / "bases"
DEFAULT_OUT = Path(__file__).resolve().parents[1] / "tests" / "support" / "kueue_crds"


class SourceError(Exception):
    """The source does not hold the CRDs asked for."""


def _yaml_files(source: Path) -> list[Path]:
    if source.is_file():
        return [source]
    if not source.is_dir():
        raise SourceError(f"{source}: no such file or directory")
    directory = source / CRD_BASES if (source / CRD_BASES).is_dir() else source
    files = sorted([*directory.glob("*.yaml"), *directory.glob("*.yml")])
    if not files:
        raise SourceError(f"{directory}: no YAML files")
    return files


def find_crds(source: Path, kinds: tuple[str, ...] = KINDS) -> dict[str, dict[str, Any]]:
    """The CustomResourceDefinitions of ``kinds`` in group kueue.x-k8s.io, by kind."""
    found: dict[str, dict[str, Any]] = {}
    for path in _yaml_files(source):
        for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")):
            if not isinstance(doc, dict) or doc.get("kind") != "CustomResourceDefinition":
                continue
            spec = doc.get("spec", {})
            kind = spec.get("names", {}).get("kind")
            if spec.get("group") != GROUP or kind not in kinds:
                continue
            if kind in found:
                raise SourceError(f"{path}: a second CRD for {kind}")
            found[kind] = doc
    missing = [kind for kind in kinds if kind not in found]
    if missing:
        raise SourceError(f"{source}: no {GROUP} CRD for {', '.join(missing)}")
    return found


def extract(crd: dict[str, Any], kueue_version: str) -> dict[str, Any]:
    """What is vendored for one CRD: the served v1beta2 version's schema and its identity."""
    spec = crd["spec"]
    served = [v for v in spec["versions"] if v["name"] == VERSION and v.get("served")]
    if not served:
        raise SourceError(f"{crd['metadata']['name']}: {VERSION} is not served")
    return {
        "kueueVersion": kueue_version,
        "crd": crd["metadata"]["name"],
        "group": spec["group"],
        "version": VERSION,
        "kind": spec["names"]["kind"],
        "plural": spec["names"]["plural"],
        "scope": spec["scope"],
        "openAPIV3Schema": served[0]["schema"]["openAPIV3Schema"],
    }


def file_name(vendored: dict[str, Any]) -> str:
    return f"{vendored['group']}_{vendored['plural']}.json"


def render(vendored: dict[str, Any]) -> str:
    return json.dumps(vendored, indent=1, ensure_ascii=False) + "\n"


def refresh(source: Path, kueue_version: str, out: Path, *, check: bool = False) -> list[Path]:
    """Write (or, with ``check``, compare) the vendored files; the paths that changed."""
    # extract every kind before writing any, so a bad source leaves the files as they were
    files = {}
    for crd in find_crds(source).values():
        vendored = extract(crd, kueue_version)
        files[out / file_name(vendored)] = render(vendored)
    changed = [
        path
        for path, text in files.items()
        if not path.exists() or path.read_text(encoding="utf-8") != text
    ]
    if not check:
        for path in changed:
            out.mkdir(parents=True, exist_ok=True)
            path.write_text(files[path], encoding="utf-8")
    return changed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--source",
        type=Path,
        required=True,
        help="a Kueue checkout, a directory of CRD YAML files, or the release's manifests.yaml",
    )
    parser.add_argument(
        "--version", required=True, help="the Kueue release the source is, e.g. v0.19.2"
    )
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"default: {DEFAULT_OUT}")
    parser.add_argument(
        "--check", action="store_true", help="write nothing; exit 1 if the files would change"
    )
    args = parser.parse_args(argv)
    try:
        changed = refresh(args.source, args.version, args.out, check=args.check)
    except SourceError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    for path in changed:
        print(f"{'stale' if args.check else 'wrote'} {path}")
    if not changed:
        print(f"up to date: {args.out}")
    return 1 if args.check and changed else 0


if __name__ == "__main__":
    sys.exit(main())
