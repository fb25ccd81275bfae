"""vLLM as the engine of GPU text generation: the question order, the fit check, and the
arguments every target runs vLLM with.

vLLM itself cannot be installed here (it pins a CUDA torch of several GB; no GPU), so its
arguments are checked against vLLM's own definitions read with ``ast`` from the release's
wheel (``EngineArgs`` and the OpenAI server's ``FrontendArgs``, the dataclasses ``vllm serve``
builds its parser from; ``ModelDType`` and ``QuantizationMethods`` for the choices).
scripts/setup.sh extracts them into .venv-vllm/; the test skips without them, except in CI.
"""

from __future__ import annotations

import ast
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from extensions import catalog
from tests.support.matrix import CASES

ROOT = Path(__file__).resolve().parents[2]
VLLM_SRC = ROOT / ".venv-vllm" / "src" / "vllm"
CASE = CASES["h100-x8-vllm"]


def _fields(path: Path, *classes: str) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {
        node.target.id
        for cls in tree.body
        if isinstance(cls, ast.ClassDef) and cls.name in classes
        for node in cls.body
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name)
    }


def _literal(path: Path, name: str) -> set[str]:
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", None) == name:
            assert isinstance(node.value, ast.Subscript)
            return {
                ast.literal_eval(e)
                for e in ast.walk(node.value.slice)
                if isinstance(e, ast.Constant)
            }
    raise LookupError(name)


@pytest.fixture(scope="module")
def vllm_definitions() -> dict[str, Any]:
    if not VLLM_SRC.is_dir():
        if os.environ.get("CI"):
            pytest.fail("vLLM's definitions are missing: run scripts/setup.sh")
        pytest.skip("vLLM's argument definitions not extracted (scripts/setup.sh does it)")
    return {
        "flags": _fields(VLLM_SRC / "engine/arg_utils.py", "EngineArgs")
        | _fields(VLLM_SRC / "entrypoints/common/cli_args.py", "BaseFrontendArgs", "FrontendArgs"),
        "dtype": _literal(VLLM_SRC / "config/model.py", "ModelDType"),
        "quantization": _literal(
            VLLM_SRC / "model_executor/layers/quantization/__init__.py", "QuantizationMethods"
        ),
    }


@pytest.fixture(scope="module")
def project(render: Any) -> Path:
    return render(CASE)


def _project_args(project: Path) -> list[str]:
    """VLLM_ARGS as the generated package defines them (imported, not grepped)."""
    code = "import json, sys; from {pkg}.project import VLLM_ARGS; print(json.dumps(VLLM_ARGS))"
    pkg = next((project / "src").iterdir()).name
    done = subprocess.run(
        [sys.executable, "-c", code.format(pkg=pkg)],
        cwd=project, env={**os.environ, "PYTHONPATH": "src"},
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return list(json.loads(done.stdout))


def test_the_generated_arguments_are_vllm_arguments(
    project: Path, vllm_definitions: dict[str, Any]
) -> None:
    args = _project_args(project) + ["--port", "8000", "--quantization", "fp8"]
    flags = [a for a in args if a.startswith("--")]
    assert flags, args
    for flag in flags:
        assert flag[2:].replace("-", "_") in vllm_definitions["flags"], f"vLLM has no {flag}"
    values = dict(zip(args[::2], args[1::2], strict=True))
    assert values["--dtype"] in vllm_definitions["dtype"]
    assert values["--quantization"] in vllm_definitions["quantization"]
    assert 0 < float(values["--gpu-memory-utilization"]) <= 1
    assert "api_key" in vllm_definitions["flags"]  # VLLM_API_KEY is its environment twin


def test_every_target_runs_tensor_parallel_8(project: Path) -> None:
    args = _project_args(project)
    assert args[args.index("--tensor-parallel-size") + 1] == "8"
    dockerfile = (project / "docker" / "Dockerfile").read_text()
    assert f"FROM {catalog.VLLM_IMAGE}" in dockerfile
    assert re.search(r'VLLM_ARGS=".*--tensor-parallel-size 8 ', dockerfile)
    deployment = yaml.safe_load((project / "k8s/base/deployment.yaml").read_text())
    pod = deployment["spec"]["template"]["spec"]
    server = pod["containers"][0]
    assert server["command"] == ["vllm", "serve"]
    assert server["args"][server["args"].index("--tensor-parallel-size") + 1] == "8"
    assert server["readinessProbe"]["httpGet"]["path"] == "/health"
    assert server["resources"]["limits"]["nvidia.com/gpu"] == 8
    assert {"name": "dshm", "emptyDir": {"medium": "Memory", "sizeLimit": "16Gi"}} in pod["volumes"]
    assert any(
        e["name"] == "VLLM_API_KEY" and "secretKeyRef" in e["valueFrom"] for e in server["env"]
    )
    assert (
        deployment["spec"]["template"]["metadata"]["annotations"]["prometheus.io/path"]
        == "/metrics"
    )
    pkg = next((project / "src").iterdir()).name
    code = f"""
import json
from {pkg}.deploy.sagemaker.plan import server_environment as sagemaker
from {pkg}.deploy.vertex.plan import PREDICT_ROUTE, HEALTH_ROUTE, server_environment as vertex
from {pkg}.deploy.modal import vllm_app
print(json.dumps({{"sagemaker": sagemaker(None), "vertex": vertex(), "routes": [PREDICT_ROUTE,
    HEALTH_ROUTE], "modal": vllm_app.serve_command(), "gpu": vllm_app.GPU,
    "image": vllm_app.VLLM_IMAGE}}))
"""
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=project, env={**os.environ, "PYTHONPATH": "src"},
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    targets = json.loads(done.stdout)
    for target in ("sagemaker", "vertex"):
        assert "--tensor-parallel-size 8 " in targets[target]["VLLM_ARGS"], targets[target]
    assert targets["routes"] == ["/v1/chat/completions", "/health"]
    modal_args = targets["modal"]
    assert modal_args[modal_args.index("--tensor-parallel-size") + 1] == "8"
    assert targets["gpu"] == "H100:8" and targets["image"] == catalog.VLLM_IMAGE


def test_a_70b_model_on_one_l4_is_refused_with_the_fix(copie: Any, template_snapshot: Path) -> None:
    answers = {**CASE, "accelerator": "nvidia-l4", "accelerator_count": 1, "deploy_targets": []}
    result = copie.copy(extra_answers=answers, template_dir=template_snapshot)
    assert result.exit_code != 0
    message = str(result.exception)
    assert "needs about" in message and "1 x NVIDIA L4" in message
    assert "accelerator_count=8" in message


@pytest.mark.parametrize(
    ("answers", "fix"),
    [
        ({"accelerator": "nvidia-a100-40gb", "accelerator_count": 2}, "accelerator_count=4"),
        ({"accelerator": "nvidia-l4", "model_params_b": 13}, "quantization=fp8"),
        (
            {"accelerator": "nvidia-l4", "model_params_b": 8, "max_model_len": 131072},
            "max_model_len=",
        ),
        ({"accelerator": "nvidia-t4", "model_params_b": 8}, "a bigger GPU (accelerator=nvidia-l4)"),
    ],
)
def test_the_fit_check_names_a_fix_that_fits(answers: dict[str, Any], fix: str) -> None:
    from extensions.context import llm

    full = {"accelerator_count": 1, "model_id": "acme/x", "quantization": "none",
            "max_model_len": 8192, "model_params_b": 70, **answers}  # fmt: skip
    message = llm.fit_problem(catalog, full)
    assert fix in message, message


def test_the_default_model_follows_the_task(copie: Any, template_snapshot: Path) -> None:
    for task, model in (
        ("text-generation", "Qwen/Qwen2.5-0.5B-Instruct"),
        ("text-classification", "distilbert/distilbert-base-uncased-finetuned-sst-2-english"),
    ):
        result = copie.copy(extra_answers={"task": task}, template_dir=template_snapshot)
        assert result.exit_code == 0, result.exception
        assert result.answers["model_id"] == model
        assert re.fullmatch(r"[0-9a-f]{40}", result.answers["model_revision"])
        assert "engine" not in result.answers  # not asked on CPU: the built-in server


def test_task_is_asked_before_model_id_and_engine_only_for_gpu_generation() -> None:
    questions = list(yaml.safe_load((ROOT / "copier.yml").read_text()))
    assert questions.index("task") < questions.index("model_id")
    assert questions.index("accelerator_count") < questions.index("engine")
    engine = yaml.safe_load((ROOT / "copier.yml").read_text())["engine"]
    assert (
        "task == 'text-generation'" in engine["when"] and "accelerator != 'cpu'" in engine["when"]
    )


def test_params_from_the_name() -> None:
    from extensions.context import llm

    assert llm.params_from_name("meta-llama/Llama-3.1-70B-Instruct") == 70
    assert llm.params_from_name("Qwen/Qwen2.5-0.5B-Instruct") == 0.5
    assert llm.params_from_name("mistralai/Mixtral-8x7B-v0.1") == 56
    assert llm.params_from_name("acme/secret-model") == 0
