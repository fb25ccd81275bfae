"""Which files a render must contain or lack, as a function of its answers.

Each feature area adds its own rule here, so the render test stays one loop.
"""

from __future__ import annotations

from typing import Any


def expected_files(answers: dict[str, Any]) -> tuple[set[str], set[str]]:
    """Return (paths that must exist, paths that must not exist) for these answers."""
    pkg = f"src/{answers['package_name']}"
    present = {
        ".copier-answers.yml",
        ".gitignore",
        "README.md",
        "Makefile",
        "pyproject.toml",
        f"{pkg}/__init__.py",
        f"{pkg}/config.py",
        f"{pkg}/hardware.py",
        f"{pkg}/model.py",
        f"{pkg}/cli.py",
        f"{pkg}/serve/app.py",
        f"{pkg}/serve/routes/health.py",
        f"{pkg}/serve/routes/native.py",
        "tests/conftest.py",
        "tests/test_server.py",
        "tests/test_model.py",
    }
    absent: set[str] = set()
    _kubernetes(answers, pkg, present, absent)

    # cloud deploy targets (SageMaker, Vertex AI, Modal): code, CLI commands and their tests
    targets = set(answers.get("deploy_targets") or [])
    cloud_files = {
        "sagemaker": [
            f"{pkg}/deploy/aws.py",
            f"{pkg}/deploy/sagemaker.py",
            f"{pkg}/deploy/sagemaker_plan.py",
            f"{pkg}/deploy/sagemaker_artifacts.py",
            f"{pkg}/commands/sagemaker.py",
            "tests/moto_sagemaker.py",
            "tests/test_deploy_sagemaker.py",
        ],
        "vertex": [
            f"{pkg}/deploy/gcp.py",
            f"{pkg}/deploy/vertex.py",
            f"{pkg}/deploy/vertex_plan.py",
            f"{pkg}/commands/vertex.py",
            "tests/vertex_standin.py",
            "tests/test_deploy_vertex.py",
        ],
        "modal": [
            f"{pkg}/deploy/modal_app.py",
            f"{pkg}/deploy/modal_check.py",
            f"{pkg}/commands/modal.py",
            "tests/test_deploy_modal.py",
        ],
    }
    for target, files in cloud_files.items():
        (present if target in targets else absent).update(files)
    shared = {f"{pkg}/deploy/cloud.py", f"{pkg}/deploy/cloud_targets.py"}
    (present if targets & set(cloud_files) else absent).update(shared)

    # lifecycle (issue 8): pre-commit, the project's own CI and the template-update job
    present |= {
        ".pre-commit-config.yaml",
        ".github/workflows/ci.yml",
        ".github/workflows/template-update.yml",
        ".github/scripts/template_update.py",
    }

    # container images (issue 4): CPU image always, CUDA image for GPUs, ONNX image for edge
    present |= {
        ".dockerignore",
        "docker/Dockerfile.cpu",
        "docker/requirements.py",
        "docker/wheels/README.md",
        "docker/model/README.md",
        f"{pkg}/images.py",
        f"{pkg}/commands/images.py",
        "tests/test_images.py",
    }
    gpu = answers["accelerator"] != "cpu"
    onnx = answers["runtime"] == "onnxruntime" or "edge" in answers["deploy_targets"]
    (present if gpu else absent).add("docker/Dockerfile")
    (present if onnx else absent).add("docker/Dockerfile.onnx")

    # ONNX export and the onnxruntime path exist in every project; their tests only where used.
    present |= {
        f"{pkg}/edge_runner.py",
        f"{pkg}/onnx_runtime.py",
        f"{pkg}/commands/onnx.py",
        f"{pkg}/export/onnx.py",
        f"{pkg}/export/bundle.py",
    }
    onnx_tests = {"tests/test_onnx_export.py", "tests/test_onnx_server.py", "tests/onnx_helpers.py"}
    uses_onnx = answers["runtime"] == "onnxruntime" or "edge" in answers["deploy_targets"]
    (present if uses_onnx else absent).update(onnx_tests)

    # serving engine (issue 3): batching, every protocol, metrics, shutdown, their tests
    present |= {
        f"{pkg}/batching.py",
        f"{pkg}/batching_errors.py",
        f"{pkg}/streaming.py",
        f"{pkg}/metrics.py",
        f"{pkg}/serve/inference.py",
        f"{pkg}/serve/server.py",
        f"{pkg}/serve/openai_schemas.py",
        f"{pkg}/serve/routes/openai.py",
        f"{pkg}/serve/routes/oip.py",
        f"{pkg}/serve/routes/oip_codec.py",
        f"{pkg}/serve/routes/sagemaker.py",
        f"{pkg}/serve/routes/vertex.py",
        f"{pkg}/serve/routes/metrics.py",
        "tests/live_server.py",
        "tests/test_batching.py",
        "tests/test_protocols.py",
        "tests/test_contracts.py",
        "tests/test_openapi_fuzz.py",
        "tests/test_shutdown.py",
    }
    return present, absent


def _kubernetes(answers: dict[str, Any], pkg: str, present: set[str], absent: set[str]) -> None:
    """k8s/ (base, overlays, Kueue) and the deploy code exist only with the kubernetes target."""
    base = [
        "kustomization.yaml",
        "namespace.yaml",
        "serviceaccount.yaml",
        "configmap.yaml",
        "service.yaml",
        "networkpolicy.yaml",
        "poddisruptionbudget.yaml",
        "deployment.yaml",
        "hpa.yaml",
    ]
    files = {f"k8s/base/{name}" for name in base} | {
        "k8s/overlays/dev/kustomization.yaml",
        "k8s/overlays/dev/hpa-patch.yaml",
        "k8s/overlays/dev/configmap-patch.yaml",
        "k8s/overlays/prod/kustomization.yaml",
        "k8s/overlays/prod/deployment-patch.yaml",
        f"{pkg}/deploy/kubernetes.py",
        f"{pkg}/deploy/k8s_manifests.py",
        f"{pkg}/deploy/k8s_rollout.py",
        f"{pkg}/commands/kubernetes.py",
        "tests/test_kubernetes_deploy.py",
        "tests/k8s_emulator.py",
        "docs/kubernetes.md",
    }
    kueue = {
        "k8s/base/kueue/resourceflavor.yaml",
        "k8s/base/kueue/clusterqueue.yaml",
        "k8s/base/kueue/localqueue.yaml",
        "k8s/batch/kustomization.yaml",
        "k8s/batch/job.yaml",
        "k8s/batch/input.jsonl",
    }
    if "kubernetes" not in answers["deploy_targets"]:
        absent |= files | kueue
        return
    present |= files
    (present if answers.get("kueue") else absent).update(kueue)
