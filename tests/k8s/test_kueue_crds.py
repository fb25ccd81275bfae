"""scripts/refresh_kueue_crds.py, and the Kueue CRD schemas it vendored in tests/support/."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import celpy
import pytest
import yaml

from tests.support import kueue
from tests.support.repo import ROOT

SCRIPT = [sys.executable, str(ROOT / "scripts" / "refresh_kueue_crds.py")]
VENDORED = ROOT / "tests" / "support" / "kueue_crds"


def _crd(kind: str, plural: str, scope: str, *, v1beta2_served: bool = True) -> dict[str, Any]:
    """A tiny CRD shaped like controller-gen's, with a deprecated v1beta1 next to v1beta2."""

    def version(name: str, served: bool, storage: bool) -> dict[str, Any]:
        return {
            "name": name,
            "served": served,
            "storage": storage,
            "schema": {
                "openAPIV3Schema": {
                    "type": "object",
                    "properties": {
                        "spec": {
                            "type": "object",
                            "properties": {"size": {"type": "integer", "minimum": 1}},
                            "x-kubernetes-validations": [
                                {"rule": "self.size < 10", "message": f"{name} rule"}
                            ],
                        }
                    },
                }
            },
        }

    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": f"{plural}.kueue.x-k8s.io"},
        "spec": {
            "group": "kueue.x-k8s.io",
            "names": {"kind": kind, "plural": plural},
            "scope": scope,
            "versions": [
                version("v1beta1", True, False),
                version("v1beta2", v1beta2_served, True),
            ],
        },
    }


CRDS = [
    _crd("ResourceFlavor", "resourceflavors", "Cluster"),
    _crd("ClusterQueue", "clusterqueues", "Cluster"),
    _crd("LocalQueue", "localqueues", "Namespaced"),
]
OTHER = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "kueue-system"}}


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*SCRIPT, *args], capture_output=True, text=True, check=False)


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    """A Kueue checkout's CRD directory, with a CRD the tests do not use."""
    bases = tmp_path / "kueue" / "config" / "components" / "crd" / "bases"
    bases.mkdir(parents=True)
    for crd in [*CRDS, _crd("Workload", "workloads", "Namespaced")]:
        plural = crd["spec"]["names"]["plural"]
        (bases / f"kueue.x-k8s.io_{plural}.yaml").write_text(yaml.safe_dump(crd))
    return tmp_path / "kueue"


def test_refresh_extracts_the_served_v1beta2_schema(checkout: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    done = run("--source", str(checkout), "--version", "v9.9.9", "--out", str(out))
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in out.iterdir()) == [
        "kueue.x-k8s.io_clusterqueues.json",
        "kueue.x-k8s.io_localqueues.json",
        "kueue.x-k8s.io_resourceflavors.json",
    ]
    local = json.loads((out / "kueue.x-k8s.io_localqueues.json").read_text())
    assert local == {
        "kueueVersion": "v9.9.9",
        "crd": "localqueues.kueue.x-k8s.io",
        "group": "kueue.x-k8s.io",
        "version": "v1beta2",
        "kind": "LocalQueue",
        "plural": "localqueues",
        "scope": "Namespaced",
        "openAPIV3Schema": CRDS[2]["spec"]["versions"][1]["schema"]["openAPIV3Schema"],
    }
    spec = local["openAPIV3Schema"]["properties"]["spec"]
    assert spec["x-kubernetes-validations"][0]["message"] == "v1beta2 rule"


def test_refresh_is_idempotent_and_check_finds_drift(checkout: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    args = ["--source", str(checkout), "--version", "v9.9.9", "--out", str(out)]
    assert run(*args).returncode == 0
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    again = run(*args)
    assert again.returncode == 0
    assert "up to date" in again.stdout
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert run(*args, "--check").returncode == 0
    stale = run("--source", str(checkout), "--version", "v9.9.10", "--out", str(out), "--check")
    assert stale.returncode == 1
    assert stale.stdout.count("stale") == 3
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before  # --check wrote nothing


def test_a_manifests_yaml_gives_the_same_files(checkout: Path, tmp_path: Path) -> None:
    """The release's manifests.yaml (every object in one file) vendors the same bytes."""
    from_checkout, from_manifests = tmp_path / "a", tmp_path / "b"
    manifests = tmp_path / "manifests.yaml"
    manifests.write_text(yaml.safe_dump_all([OTHER, *reversed(CRDS)]))
    assert (
        run("--source", str(checkout), "--version", "v1", "--out", str(from_checkout)).returncode
        == 0
    )
    done = run("--source", str(manifests), "--version", "v1", "--out", str(from_manifests))
    assert done.returncode == 0, done.stderr
    for path in from_checkout.iterdir():
        assert (from_manifests / path.name).read_bytes() == path.read_bytes()


@pytest.mark.parametrize(
    ("docs", "error"),
    [
        ([OTHER, *CRDS[:2]], "no kueue.x-k8s.io CRD for LocalQueue"),
        (
            [*CRDS[:2], _crd("LocalQueue", "localqueues", "Namespaced", v1beta2_served=False)],
            "v1beta2 is not served",
        ),
        ([*CRDS, CRDS[0]], "a second CRD for ResourceFlavor"),
    ],
)
def test_refresh_refuses_a_source_without_the_crds(
    docs: list[dict[str, Any]], error: str, tmp_path: Path
) -> None:
    source = tmp_path / "manifests.yaml"
    source.write_text(yaml.safe_dump_all(docs))
    out = tmp_path / "out"
    done = run("--source", str(source), "--version", "v1", "--out", str(out))
    assert done.returncode == 2
    assert error in done.stderr
    assert not out.exists()


def test_refresh_does_not_download() -> None:
    done = run("--source", "https://github.com/kubernetes-sigs/kueue", "--version", "v1")
    assert done.returncode == 2
    assert "no such file or directory" in done.stderr


# --- the vendored files --------------------------------------------------------------------


def test_vendored_files_are_what_the_script_writes() -> None:
    """Each vendored file is the script's output for its own CRD (no hand edits)."""
    script = _load_script()
    for path in sorted(VENDORED.glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        crd = {
            "metadata": {"name": data["crd"]},
            "spec": {
                "group": data["group"],
                "names": {"kind": data["kind"], "plural": data["plural"]},
                "scope": data["scope"],
                "versions": [
                    {
                        "name": data["version"],
                        "served": True,
                        "schema": {"openAPIV3Schema": data["openAPIV3Schema"]},
                    }
                ],
            },
        }
        vendored = script.extract(crd, data["kueueVersion"])
        assert script.file_name(vendored) == path.name
        assert script.render(vendored) == path.read_text(encoding="utf-8")


def test_vendored_files_are_one_kueue_release_named_in_the_readme() -> None:
    readme = (VENDORED / "README.md").read_text(encoding="utf-8")
    versions = {data["kueueVersion"] for data in kueue.vendored().values()}
    assert len(versions) == 1, versions
    (version,) = versions
    assert f"**{version}**" in readme
    for data in kueue.vendored().values():
        assert data["version"] == "v1beta2"
        assert f"config/components/crd/bases/kueue.x-k8s.io_{data['plural']}.yaml" in readme


def test_every_vendored_cel_rule_compiles() -> None:
    """cel-python can run every rule Kueue ships: a new one it cannot parse fails here."""
    env = celpy.Environment()
    rules = [rule["rule"] for kind in kueue.KINDS for _, rule in kueue.cel_rules(kind)]
    assert len(rules) >= 15  # v0.19: ResourceFlavor 10, ClusterQueue 4, LocalQueue 1
    for rule in rules:
        env.program(env.compile(rule))


def _load_script() -> Any:
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "refresh_kueue_crds", ROOT / "scripts" / "refresh_kueue_crds.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
