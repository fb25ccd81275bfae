"""The named answer matrix: one place for every answer combination the tests render.

Each case is a dict of answers on top of the defaults. ``test_render`` renders every case;
``GENERATED_SUITES`` names the cases whose generated test suite is run too.
"""

from __future__ import annotations

from typing import Any

SST2 = "distilbert/distilbert-base-uncased-finetuned-sst-2-english"
GPT2 = "openai-community/gpt2"
LLAMA_70B = "meta-llama/Llama-3.1-70B-Instruct"

CASES: dict[str, dict[str, Any]] = {
    "default": {},
    "cpu-classification": {
        "task": "text-classification",
        "model_id": SST2,
        "model_revision": "714eb0fa89d2f80546fda750413ed43d93601a13",
        "max_seq_length": 128,
    },
    "cpu-generation": {
        "task": "text-generation",
        "model_id": GPT2,
        "model_revision": "607a30d783dfa663caf39e06633721c8d4cfcd7e",
        "max_seq_length": 256,
    },
    "t4-sagemaker": {"accelerator": "nvidia-t4", "deploy_targets": ["sagemaker"]},
    "l4-vertex": {
        "accelerator": "nvidia-l4",
        "deploy_targets": ["vertex"],
        "gcp_project": "acme-ml-prod",
    },
    "a10g-modal": {"accelerator": "nvidia-a10g", "deploy_targets": ["modal"]},
    "a100-80gb-x2-vertex": {
        "accelerator": "nvidia-a100-80gb",
        "accelerator_count": 2,
        "deploy_targets": ["vertex", "kubernetes"],
    },
    "h100-x8-kueue": {
        "accelerator": "nvidia-h100-80gb",
        "accelerator_count": 8,
        "deploy_targets": ["kubernetes", "sagemaker"],
        "kueue": True,
        "kueue_gpu_quota": 16,
        "weights_strategy": "volume",
    },
    "cpu-serverless-sagemaker": {"deploy_targets": ["sagemaker"], "sagemaker_serverless": True},
    "edge-onnxruntime": {"runtime": "onnxruntime", "deploy_targets": ["edge"]},
    "all-targets-l4": {
        "accelerator": "nvidia-l4",
        "deploy_targets": ["kubernetes", "sagemaker", "vertex", "modal", "edge"],
        "kueue": True,
        "auth_enabled": True,
        "image_registry": "ghcr.io/acme",
        "weights_strategy": "download",
    },
    "h100-x8-vllm": {
        "task": "text-generation",
        "model_id": LLAMA_70B,
        "model_revision": "1605565b47bb9346c5515c34102e054115b4f98b",
        "accelerator": "nvidia-h100-80gb",
        "accelerator_count": 8,
        "engine": "vllm",
        "deploy_targets": ["kubernetes", "sagemaker", "vertex", "modal"],
        "auth_enabled": True,
    },
    "cpu-kueue-auth": {"kueue": True, "auth_enabled": True, "max_replicas": 4},
    "local-model-no-targets": {"model_id": "./models/my-encoder", "deploy_targets": []},
}

#: cases whose generated project's own test suite runs: the default and one per task.
GENERATED_SUITES = ["default", "cpu-classification", "cpu-generation", "edge-onnxruntime"]
#: cases whose whole generated suite runs as a user runs it, in a fresh venv with the README's
#: ``make install && make test`` (tests/generated/test_readme_commands.py); the other
#: generated-suite tests leave them out instead of running them twice.
README_CASES = ["default", "all-targets-l4"]
