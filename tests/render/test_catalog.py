"""The hardware catalog: complete rows, derived CUDA facts, and cloud values the clouds accept.

Cloud values are checked against the clouds' own SDK models installed here: botocore's
SageMaker service model (ProductionVariantInstanceType) and the Vertex AI v1 AcceleratorType
enum of google-cloud-aiplatform. Modal's GPU names are checked against modal's own parser.
"""

from __future__ import annotations

import pytest

from extensions import catalog
from extensions.context import derive

GPUS = [acc for acc in catalog.ACCELERATORS.values() if acc.is_gpu]
REQUIRED = {
    "cpu",
    "nvidia-t4",
    "nvidia-l4",
    "nvidia-a10g",
    "nvidia-a100-40gb",
    "nvidia-a100-80gb",
    "nvidia-h100-80gb",
}


def test_catalog_has_the_required_rows() -> None:
    assert set(catalog.ACCELERATORS) >= REQUIRED


@pytest.mark.parametrize("acc", GPUS, ids=lambda a: a.key)
def test_gpu_rows_are_complete(acc: catalog.Accelerator) -> None:
    assert acc.compute_capability and acc.min_cuda and acc.memory_gb > 0
    assert acc.k8s_gpu_product and acc.modal_gpu
    assert acc.sagemaker_instances or acc.vertex_machines
    assert acc.nearest_alternative in catalog.ACCELERATORS
    assert not acc.sagemaker_serverless, "SageMaker Serverless has no GPUs"


@pytest.mark.parametrize("acc", GPUS, ids=lambda a: a.key)
def test_cuda_release_is_derived_and_sufficient(acc: catalog.Accelerator) -> None:
    release = acc.cuda
    assert release is not None
    assert release.version >= acc.min_cuda
    assert release.torch_index == f"cu{release.version[0]}{release.version[1]}"
    assert release.image_tag.startswith(f"nvidia/cuda:{release.version[0]}.{release.version[1]}.")
    assert "-base-" in release.image_tag or "-runtime-" in release.image_tag
    assert "-devel-" in release.devel_image_tag


def test_cpu_row_has_no_gpu_facts() -> None:
    cpu = catalog.ACCELERATORS["cpu"]
    assert cpu.cuda is None and cpu.modal_gpu is None and cpu.sagemaker_serverless


def _sagemaker_instance_types() -> set[str]:
    import botocore.session

    model = botocore.session.get_session().get_service_model("sagemaker")
    return set(model.shape_for("ProductionVariantInstanceType").enum)


@pytest.mark.parametrize("acc", list(catalog.ACCELERATORS.values()), ids=lambda a: a.key)
def test_sagemaker_instance_types_exist(acc: catalog.Accelerator) -> None:
    valid = _sagemaker_instance_types()
    for count, instance in acc.sagemaker_instances.items():
        assert instance in valid, f"{acc.key} x{count}: {instance} is not a SageMaker hosting type"


@pytest.mark.parametrize("acc", [a for a in GPUS if a.vertex_machines], ids=lambda a: a.key)
def test_vertex_accelerator_enum_exists(acc: catalog.Accelerator) -> None:
    from google.cloud.aiplatform_v1.types import AcceleratorType

    assert acc.vertex_accelerator in AcceleratorType.__members__


#: GPU names Modal documents for ``gpu=`` (modal.com/docs/guide/gpu, 2026-11); modal's own
#: parser accepts any string, so the documented list is the reference.
MODAL_GPUS = {"T4", "L4", "A10G", "A100-40GB", "A100-80GB", "L40S", "H100", "H200", "B200"}


@pytest.mark.parametrize("acc", GPUS, ids=lambda a: a.key)
def test_modal_gpu_names_parse(acc: catalog.Accelerator) -> None:
    from modal._utils.function_utils import parse_gpu_config

    assert acc.modal_gpu in MODAL_GPUS
    for count in (1, 2):
        config = parse_gpu_config(acc.modal_gpu_spec(count))
        assert config.gpu_type == acc.modal_gpu.upper() and config.count == count


def test_target_problem_names_the_alternative() -> None:
    msg = catalog.target_problem("nvidia-a10g", 1, ["vertex"])
    assert "nvidia-l4" in msg
    assert catalog.target_problem("nvidia-l4", 1, ["vertex", "sagemaker", "modal"]) == ""
    assert "groups of 8" in catalog.target_problem("nvidia-h100-80gb", 1, ["sagemaker"])


def test_derive_changes_every_fact_with_the_accelerator() -> None:
    base = {"project_name": "Demo", "package_name": "demo", "accelerator_count": 1}
    cpu = derive({**base, "accelerator": "cpu"})["hw"]
    l4 = derive({**base, "accelerator": "nvidia-l4"})["hw"]
    assert cpu["torch_index"] == "cpu" and cpu["cuda_image"] == "" and cpu["gpu_count"] == 0
    assert l4["cuda_image"].startswith("nvidia/cuda:") and l4["gpu_count"] == 1
    assert l4["sagemaker_instance"] == "ml.g6.xlarge"
    assert l4["vertex_machine"] == "g2-standard-8"
    assert l4["modal_gpu"] == "L4" and l4["k8s_gpu_product"] == "NVIDIA-L4"
    assert l4["torch_dtype"] == "bfloat16"


@pytest.mark.parametrize("acc", GPUS, ids=lambda a: a.key)
def test_pods_fit_the_smallest_node_with_room_for_the_system(acc: catalog.Accelerator) -> None:
    """Every GPU count a project may ask for gets a pod that fits the smallest common
    machine with that many GPUs, after what the kubelet and DaemonSets keep."""
    from extensions.context import SYSTEM_CPUS, SYSTEM_MEMORY_GIB, pod_resources

    assert acc.nodes, f"{acc.key} lists no machines"
    for count in (1, 2, 4, 8):
        node = acc.smallest_node(count)
        assert node is not None and node.gpus >= count
        pod = pod_resources(True, count, acc.key)
        share = count / node.gpus
        assert int(pod["cpu_request"]) <= (node.vcpus - SYSTEM_CPUS) * share
        assert int(pod["memory_gi"]) <= (node.memory_gib - SYSTEM_MEMORY_GIB) * share
        assert int(pod["cpu_limit"]) <= max(int(pod["cpu_request"]), node.vcpus * share)
        assert pod["node"] == node.machine


def test_the_4_vcpu_16_gib_nodes_fit() -> None:
    """g4dn/g5/g6 .xlarge: 4 vCPU and 16 GiB for one GPU (the issue: 4 CPU / 16 Gi never fit)."""
    from extensions.context import pod_resources

    for key, machine in (("nvidia-t4", "g4dn"), ("nvidia-a10g", "g5"), ("nvidia-l4", "g6")):
        pod = pod_resources(True, 1, key)
        assert pod["node"] == f"{machine}.xlarge"
        assert (pod["cpu_request"], pod["cpu_limit"], pod["memory"]) == ("3", "4", "12Gi")
