"""Bad answers are refused with a message that says what is wrong and how to fix it.

Rendered through pytest-copie (the ``copie`` fixture) from a snapshot of the working tree.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

BAD_ANSWERS: dict[str, tuple[dict[str, Any], str]] = {
    "package name with a dash": (
        {"package_name": "my-service"},
        r"not a valid Python package name: use lower-case letters",
    ),
    "package name shadowing the stdlib": (
        {"package_name": "json"},
        r"would shadow Python's own 'json'",
    ),
    "model id that is neither hub id nor path": (
        {"model_id": "just-a-name"},
        r"neither a Hugging Face Hub id nor a local path",
    ),
    "model revision as a branch": ({"model_revision": "main"}, r"Pin the model to a commit hash"),
    "model revision too short": ({"model_revision": "abc123"}, r"is not a commit hash"),
    "A10G on Vertex AI": (
        {"accelerator": "nvidia-a10g", "deploy_targets": ["vertex"]},
        r"Vertex AI does not offer NVIDIA A10G.*Choose accelerator nvidia-l4",
    ),
    "H100 x1 on SageMaker": (
        {
            "accelerator": "nvidia-h100-80gb",
            "accelerator_count": 1,
            "deploy_targets": ["sagemaker"],
        },
        r"SageMaker offers NVIDIA H100 .* only in groups of 8 .* set accelerator_count",
    ),
    "serverless SageMaker with a GPU": (
        {"accelerator": "nvidia-t4", "deploy_targets": ["sagemaker"], "sagemaker_serverless": True},
        r"Serverless Inference has no GPUs",
    ),
    "too many GPUs": (
        {"accelerator": "nvidia-l4", "accelerator_count": 16},
        r"between 1 and 8 GPUs",
    ),
    "zero GPUs": ({"accelerator": "nvidia-l4", "accelerator_count": 0}, r"between 1 and 8 GPUs"),
    "max below min replicas": (
        {"min_replicas": 4, "max_replicas": 2},
        r"must be at least min_replicas",
    ),
    "privileged port": ({"port": 80}, r"non-root user, which cannot bind 80"),
    "onnxruntime for generation": (
        {"task": "text-generation", "runtime": "onnxruntime", "model_revision": "a" * 40},
        r"choose runtime torch for text-generation",
    ),
    "edge bundle for generation": (
        {"task": "text-generation", "deploy_targets": ["edge"]},
        r"drop edge from deploy_targets",
    ),
    "registry with a scheme": ({"image_registry": "https://ghcr.io/acme"}, r"without a scheme"),
    "bad GCP project id": (
        {"deploy_targets": ["vertex"], "gcp_project": "My_Project"},
        r"is not a GCP project id",
    ),
    "bad AWS region": (
        {"deploy_targets": ["sagemaker"], "aws_region": "europe"},
        r"not an AWS region",
    ),
    "Kueue quota below one replica": (
        {"accelerator": "nvidia-l4", "accelerator_count": 4, "kueue": True, "kueue_gpu_quota": 2},
        r"must hold at least one replica's 4 GPUs",
    ),
    "download strategy with a local model": (
        {"model_id": "./models/mine", "weights_strategy": "download"},
        r"cannot be downloaded at start",
    ),
    "batch size zero": ({"max_batch_size": 0}, r"between 1 and 1024"),
}


@pytest.mark.parametrize("case", BAD_ANSWERS)
def test_bad_answer_is_refused_with_its_message(
    case: str, copie: Any, template_snapshot: Path
) -> None:
    answers, message = BAD_ANSWERS[case]
    result = copie.copy(extra_answers=answers, template_dir=template_snapshot)
    assert result.exit_code != 0, f"{case}: the bad answer was accepted"
    assert result.exception is not None
    assert re.search(message, str(result.exception)), (
        f"{case}: unexpected message: {result.exception}"
    )


def test_good_defaults_render(copie: Any, template_snapshot: Path) -> None:
    result = copie.copy(template_dir=template_snapshot)
    assert result.exit_code == 0, result.exception
    assert (result.project_dir / "pyproject.toml").is_file()


def test_a_long_project_name_still_gives_a_valid_namespace(
    copie: Any, template_snapshot: Path
) -> None:
    """The namespace default is cut to Kubernetes' 63 characters instead of failing."""
    name = "Customer support ticket routing and triage embeddings for the EMEA region"
    result = copie.copy(extra_answers={"project_name": name}, template_dir=template_snapshot)
    assert result.exit_code == 0, result.exception
    namespace = result.answers["k8s_namespace"]
    assert len(namespace) <= 63 and not namespace.endswith("-")
