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
        f"{pkg}/settings.py",
        f"{pkg}/project.py",
        f"{pkg}/errors.py",
        f"{pkg}/runtime/predictor.py",
        f"{pkg}/runtime/load.py",
        f"{pkg}/runtime/torch_predictors.py",
        f"{pkg}/runtime/generation.py",
        f"{pkg}/runtime/workers.py",
        f"{pkg}/cli.py",
        f"{pkg}/serve/app.py",
        f"{pkg}/serve/cli.py",
        f"{pkg}/serve/protocols/health.py",
        f"{pkg}/serve/protocols/native.py",
        f"{pkg}/deploy/common.py",
        "tests/conftest.py",
        "tests/test_server.py",
        "tests/test_model.py",
    }
    absent: set[str] = set()
    generation = answers.get("task") == "text-generation"
    (present if generation else absent).add("tests/test_generation.py")
    _kubernetes(answers, pkg, present, absent)

    # cloud deploy targets (SageMaker, Vertex AI, Modal): one folder each for the code, the
    # commands and the tests
    targets = set(answers.get("deploy_targets") or [])
    cloud_files = {
        "sagemaker": [
            f"{pkg}/deploy/sagemaker/aws.py",
            f"{pkg}/deploy/sagemaker/apply.py",
            f"{pkg}/deploy/sagemaker/plan.py",
            f"{pkg}/deploy/sagemaker/artifacts.py",
            f"{pkg}/deploy/sagemaker/cli.py",
            f"{pkg}/deploy/sagemaker/autoscaling.py",
            "tests/sagemaker/moto_sagemaker.py",
            "tests/sagemaker/test_deploy_sagemaker.py",
            "tests/sagemaker/test_sagemaker_updates.py",
            "tests/sagemaker/test_sagemaker_guide.py",
            "docs/sagemaker.md",
        ],
        "vertex": [
            f"{pkg}/deploy/vertex/gcp.py",
            f"{pkg}/deploy/vertex/apply.py",
            f"{pkg}/deploy/vertex/plan.py",
            f"{pkg}/deploy/vertex/cli.py",
            f"{pkg}/deploy/vertex/registry.py",
            "tests/vertex/vertex_standin.py",
            "tests/vertex/test_deploy_vertex.py",
            "tests/vertex/test_vertex_push.py",
            "tests/vertex/test_vertex_guide.py",
            "docs/vertex.md",
        ],
        "modal": [
            f"{pkg}/deploy/modal/app.py",
            f"{pkg}/deploy/modal/check.py",
            f"{pkg}/deploy/modal/cli.py",
            f"{pkg}/deploy/modal/serving.py",
            f"{pkg}/deploy/modal/weights.py",
            "tests/modal/test_deploy_modal.py",
            "tests/modal/test_modal_weights.py",
            "docs/modal.md",
        ],
    }
    for target, files in cloud_files.items():
        (present if target in targets else absent).update(files)

    # every project: the settings guide, checked against Settings; the multi-GPU layout
    present |= {"docs/serving.md", "tests/test_settings_doc.py", "tests/test_gpu_layout.py"}

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
        f"{pkg}/images/builder.py",
        f"{pkg}/images/doctor.py",
        f"{pkg}/images/cli.py",
        "tests/test_images.py",
    }
    gpu = answers["accelerator"] != "cpu"
    onnx = answers["runtime"] == "onnxruntime" or "edge" in answers["deploy_targets"]
    (present if gpu else absent).add("docker/Dockerfile")
    (present if onnx else absent).add("docker/Dockerfile.onnx")

    # ONNX export and the onnxruntime path exist in every project; their tests only where used.
    present |= {
        f"{pkg}/runtime/edge_runner.py",
        f"{pkg}/runtime/onnx_predictor.py",
        f"{pkg}/export/cli.py",
        f"{pkg}/export/onnx.py",
        f"{pkg}/export/bundle.py",
    }
    onnx_tests = {
        "tests/onnx/test_onnx_export.py",
        "tests/onnx/test_onnx_server.py",
        "tests/onnx/onnx_helpers.py",
    }
    uses_onnx = answers["runtime"] == "onnxruntime" or "edge" in answers["deploy_targets"]
    (present if uses_onnx else absent).update(onnx_tests)

    # serving engine (issue 3): batching, every protocol, metrics, shutdown, their tests
    present |= {
        f"{pkg}/engine/batcher.py",
        f"{pkg}/engine/errors.py",
        f"{pkg}/engine/requests.py",
        f"{pkg}/engine/streaming.py",
        f"{pkg}/engine/cli.py",
        f"{pkg}/serve/metrics.py",
        f"{pkg}/serve/inference.py",
        f"{pkg}/serve/generation.py",
        f"{pkg}/serve/server.py",
        f"{pkg}/serve/protocols/openai_schemas.py",
        f"{pkg}/serve/protocols/openai.py",
        f"{pkg}/serve/protocols/oip.py",
        f"{pkg}/serve/protocols/oip_codec.py",
        f"{pkg}/serve/protocols/sagemaker.py",
        f"{pkg}/serve/protocols/vertex.py",
        f"{pkg}/serve/protocols/metrics.py",
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
        f"{pkg}/deploy/kubernetes/apply.py",
        f"{pkg}/deploy/kubernetes/manifests.py",
        f"{pkg}/deploy/kubernetes/rollout.py",
        f"{pkg}/deploy/kubernetes/cli.py",
        "tests/kubernetes/test_kubernetes_deploy.py",
        "tests/kubernetes/k8s_emulator.py",
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
