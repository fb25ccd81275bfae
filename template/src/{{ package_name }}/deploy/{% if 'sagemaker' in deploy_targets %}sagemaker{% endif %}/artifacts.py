"""What a SageMaker model is made of: the image in ECR, the weights in S3, or AWS's own
Hugging Face inference image instead of ours.
"""

from __future__ import annotations

import base64
import logging
import tarfile
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from .aws import explain, is_not_found

if TYPE_CHECKING:
    import boto3

log = logging.getLogger(__name__)

#: AWS Hugging Face inference image, pinned (versions listed by the sagemaker SDK 2.x)
HF_TRANSFORMERS_VERSION = "4.51.3"
HF_PYTORCH_VERSION = "2.6.0"
HF_PY_VERSION = "py312"
#: the image a serverless (CPU) endpoint gets: any CPU instance type selects the CPU build
HF_CPU_INSTANCE_FOR_LOOKUP = "ml.m5.xlarge"


def ecr_auth_config(aws: boto3.Session) -> dict[str, str]:
    """Docker login for ECR from a 12-hour authorization token (never written to disk)."""
    try:
        data = aws.client("ecr").get_authorization_token()["authorizationData"][0]
    except Exception as exc:
        raise explain(exc, "getting an ECR login token") from exc
    username, _, password = base64.b64decode(data["authorizationToken"]).decode().partition(":")
    return {"username": username, "password": password, "serveraddress": data["proxyEndpoint"]}


def ensure_repository(aws: boto3.Session, name: str) -> str:
    """The ECR repository's URI, creating it (scan on push) when it does not exist."""
    ecr = aws.client("ecr")
    try:
        return str(
            ecr.describe_repositories(repositoryNames=[name])["repositories"][0]["repositoryUri"]
        )
    except Exception as exc:
        if not is_not_found(exc):
            raise explain(exc, f"looking up ECR repository {name}") from exc
    try:
        created = ecr.create_repository(
            repositoryName=name, imageScanningConfiguration={"scanOnPush": True}
        )
    except Exception as exc:
        raise explain(exc, f"creating ECR repository {name}") from exc
    log.info("created ECR repository %s", name)
    return str(created["repository"]["repositoryUri"])


def push_to_ecr(aws: boto3.Session, repository_name: str, tag: str) -> str:
    """Push the locally built image (``images build``) to ECR; returns ``repository@sha256:...``.

    Needs Docker or podman's Docker-compatible API; the local ``<image>:<tag>`` is tagged as
    the ECR repository first. The digest, not the tag, is what the model runs: a later push
    of the same tag cannot change a deployed endpoint.
    """
    from ...images.builder import publish

    repository = ensure_repository(aws, repository_name)
    pushed = publish(repository, tag, auth_config=ecr_auth_config(aws))
    log.info("pushed %s", pushed.reference)
    return pushed.reference


def ensure_bucket(aws: boto3.Session, bucket: str) -> None:
    s3 = aws.client("s3")
    try:
        s3.head_bucket(Bucket=bucket)
        return
    except Exception as exc:
        if not is_not_found(exc):
            raise explain(exc, f"checking S3 bucket {bucket}") from exc
    region = aws.region_name
    options = (
        {}
        if region == "us-east-1"
        else {"CreateBucketConfiguration": {"LocationConstraint": region}}
    )
    try:
        s3.create_bucket(Bucket=bucket, **options)
    except Exception as exc:
        raise explain(exc, f"creating S3 bucket {bucket}") from exc


def package_weights(aws: boto3.Session, model_dir: Path, bucket: str, key: str) -> str:
    """Upload ``model_dir`` as the model.tar.gz SageMaker unpacks into /opt/ml/model."""
    if not (model_dir / "config.json").is_file():
        raise FileNotFoundError(
            f"{model_dir} has no config.json: pass --weights-dir pointing at the saved model "
            "(save_pretrained layout)"
        )
    ensure_bucket(aws, bucket)
    with tempfile.TemporaryDirectory() as tmp:
        archive = Path(tmp) / "model.tar.gz"
        with tarfile.open(archive, "w:gz") as tar:
            for path in sorted(model_dir.iterdir()):
                if not path.name.startswith("."):
                    tar.add(path, arcname=path.name)
        try:
            aws.client("s3").upload_file(str(archive), bucket, key)
        except Exception as exc:
            raise explain(exc, f"uploading the weights to s3://{bucket}/{key}") from exc
    return f"s3://{bucket}/{key}"


def delete_prefix(aws: boto3.Session, bucket: str, prefix: str) -> int:
    """Delete every object under ``prefix`` (idempotent); returns how many were deleted."""
    s3 = aws.client("s3")
    deleted = 0
    try:
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
            keys = [{"Key": item["Key"]} for item in page.get("Contents", [])]
            if keys:
                s3.delete_objects(Bucket=bucket, Delete={"Objects": keys})
                deleted += len(keys)
    except Exception as exc:
        if is_not_found(exc):
            return deleted
        raise explain(exc, f"deleting s3://{bucket}/{prefix}") from exc
    return deleted


def huggingface_image_uri(region: str, instance_type: str | None) -> str:
    """AWS's Hugging Face inference image for this region and processor (GPU or CPU).

    Looked up with the sagemaker SDK, which keeps the per-region registry table boto3 lacks.
    """
    from sagemaker import image_uris

    return str(
        image_uris.retrieve(
            framework="huggingface",
            region=region,
            version=HF_TRANSFORMERS_VERSION,
            base_framework_version=f"pytorch{HF_PYTORCH_VERSION}",
            py_version=HF_PY_VERSION,
            image_scope="inference",
            instance_type=instance_type or HF_CPU_INSTANCE_FOR_LOOKUP,
        )
    )


def huggingface_environment(model_id: str, revision: str | None, task: str) -> dict[str, str]:
    """The Hugging Face inference toolkit's settings (it downloads the model at start)."""
    env = {"HF_MODEL_ID": model_id, "HF_TASK": task}
    if revision:
        env["HF_MODEL_REVISION"] = revision
    return env


def delete_repository(aws: boto3.Session, name: str) -> list[str]:
    """Delete the ECR repository with its images (idempotent)."""
    try:
        aws.client("ecr").delete_repository(repositoryName=name, force=True)
    except Exception as exc:
        if is_not_found(exc):
            return []
        raise explain(exc, f"deleting ECR repository {name}") from exc
    return [f"ECR repository {name}"]
