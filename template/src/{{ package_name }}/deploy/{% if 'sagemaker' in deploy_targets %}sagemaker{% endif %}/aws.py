"""AWS session, pre-flight checks and plain-words errors for the SageMaker deploy.

Credentials come from the standard AWS chain (profile, environment, SSO, instance role);
nothing here stores or prints them. ``AWS_ENDPOINT_URL`` is honoured by boto3 itself, which
is how the tests point every client at a local moto server.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ...errors import DeployError

if TYPE_CHECKING:
    import boto3

#: error codes that mean "you may not do this", across the services we call
ACCESS_DENIED = {"AccessDenied", "AccessDeniedException", "UnauthorizedOperation"}
BAD_CREDENTIALS = {
    "InvalidClientTokenId",
    "SignatureDoesNotMatch",
    "ExpiredToken",
    "ExpiredTokenException",
    "UnrecognizedClientException",
}

#: how a ValidationException says "no such resource" (SageMaker, application-autoscaling)
NOT_FOUND_HINTS = (
    "could not find",
    "does not exist",
    "not found",
    "no scalable target",
    "no scaling policy",
)

#: the IAM actions the deploy needs; docs/sagemaker.md has the full policy
REQUIRED_ACTIONS = (
    "sagemaker:CreateModel, CreateEndpointConfig, CreateEndpoint, UpdateEndpoint, Describe*, "
    "Delete*, InvokeEndpoint; ecr:CreateRepository, GetAuthorizationToken, push; "
    "s3:PutObject; application-autoscaling:*; iam:PassRole on the execution role"
)


def session(region: str) -> boto3.Session:
    import boto3

    return boto3.Session(region_name=region)


def check_access(aws: boto3.Session) -> str:
    """Fail early, before anything exists, on missing credentials or an unreachable API.

    Returns the account id (used for the default bucket name).
    """
    try:
        identity = aws.client("sts").get_caller_identity()
        aws.client("sagemaker").list_endpoints(MaxResults=1)
    except Exception as exc:  # translated below; anything else propagates unchanged
        raise explain(exc, "checking your AWS access") from exc
    return str(identity["Account"])


def explain(exc: BaseException, action: str) -> BaseException:
    """Turn a botocore error into a DeployError that says what to fix (others unchanged)."""
    from botocore.exceptions import (
        ClientError,
        EndpointConnectionError,
        NoCredentialsError,
        PartialCredentialsError,
    )

    if isinstance(exc, DeployError):
        return exc
    if isinstance(exc, NoCredentialsError | PartialCredentialsError):
        return DeployError(
            f"No AWS credentials found while {action}: run `aws configure` or `aws sso login`, "
            "or set AWS_PROFILE to a profile that has them."
        )
    if isinstance(exc, EndpointConnectionError):
        return DeployError(
            f"Cannot reach the AWS API while {action} ({exc}): check your network, proxy and "
            "region, and AWS_ENDPOINT_URL if you set one."
        )
    if not isinstance(exc, ClientError):
        return exc
    error: dict[str, Any] = exc.response.get("Error", {})
    code, message = str(error.get("Code", "")), str(error.get("Message", ""))
    if code in BAD_CREDENTIALS:
        return DeployError(
            f"AWS rejected your credentials while {action} ({code}): refresh them "
            "(`aws sso login`) or pick another profile with AWS_PROFILE."
        )
    if code in ACCESS_DENIED:
        return DeployError(
            f"Permission denied while {action}: {message}. The deploy needs {REQUIRED_ACTIONS} "
            "(see docs/sagemaker.md for the policy)."
        )
    if code == "ResourceLimitExceeded":
        return DeployError(
            f"Quota reached while {action}: {message}. Ask for more in the Service Quotas "
            "console (quota '<instance type> for endpoint usage'), or use a smaller instance."
        )
    if code == "ValidationException" and _names_instance_type(message):
        return DeployError(
            f"The instance type is not available here while {action}: {message}. Choose a "
            "region that offers it (--region), or another accelerator with `copier update`."
        )
    return DeployError(f"AWS refused {action} ({code}): {message}")


def _names_instance_type(message: str) -> bool:
    text = message.lower()
    return "instance type" in text or "instancetype" in text


def is_not_found(exc: BaseException) -> bool:
    """Whether a botocore error means the resource does not exist (for idempotent deletes)."""
    from botocore.exceptions import ClientError

    if not isinstance(exc, ClientError):
        return False
    error = exc.response.get("Error", {})
    code, message = str(error.get("Code", "")), str(error.get("Message", "")).lower()
    return code in {
        "ResourceNotFound",
        "ResourceNotFoundException",
        "ObjectNotFoundException",
        "RepositoryNotFoundException",
        "NoSuchBucket",
        "NoSuchKey",
        "404",
    } or (code == "ValidationException" and any(hint in message for hint in NOT_FOUND_HINTS))
