"""GCP connection, credentials and plain-words errors for the Vertex AI deploy.

Credentials come from Application Default Credentials (``gcloud auth application-default
login``, a service account on the machine, or GOOGLE_APPLICATION_CREDENTIALS), read by
google-auth itself; nothing here stores or prints them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ...errors import DeployError

if TYPE_CHECKING:
    from google.auth.credentials import Credentials

#: the roles the deploy needs; docs/vertex.md explains them
REQUIRED_ROLES = "roles/aiplatform.user (and roles/artifactregistry.reader for the image)"


def default_credentials() -> Credentials:
    """Application Default Credentials, or a DeployError saying how to get them."""
    import google.auth
    from google.auth.exceptions import DefaultCredentialsError

    try:
        credentials, _ = google.auth.default(
            scopes=["https://www.googleapis.com/auth/cloud-platform"]
        )
    except DefaultCredentialsError as exc:
        raise DeployError(
            "No Google Cloud credentials found: run `gcloud auth application-default login`, "
            "or set GOOGLE_APPLICATION_CREDENTIALS to a service-account key file."
        ) from exc
    return credentials


def connect(
    project: str,
    region: str,
    *,
    credentials: Credentials | None = None,
    api_endpoint: str | None = None,
) -> Credentials:
    """Point the Vertex AI SDK at a project and region (REST transport for api_endpoint);
    returns the credentials it uses (the Artifact Registry push uses them too)."""
    from google.cloud import aiplatform

    options: dict[str, object] = {}
    if api_endpoint:
        options = {"api_endpoint": api_endpoint, "api_transport": "rest"}
    credentials = credentials or default_credentials()
    aiplatform.init(project=project, location=region, credentials=credentials, **options)
    return credentials


def explain(exc: BaseException, action: str) -> BaseException:
    """Turn a google-api-core or transport error into a DeployError that says what to fix."""
    from google.api_core import exceptions as api
    from google.auth.exceptions import DefaultCredentialsError, RefreshError

    if isinstance(exc, DeployError):
        return exc
    if isinstance(exc, DefaultCredentialsError | RefreshError):
        return DeployError(
            f"Google Cloud credentials failed while {action} ({exc}): run "
            "`gcloud auth application-default login` again."
        )
    if isinstance(exc, api.Forbidden | api.Unauthorized):  # PermissionDenied, Unauthenticated
        return DeployError(
            f"Permission denied while {action}: {exc.message}. The account needs "
            f"{REQUIRED_ROLES}, and the Vertex AI API must be enabled in the project."
        )
    if isinstance(exc, api.TooManyRequests):  # ResourceExhausted is one
        return DeployError(
            f"Quota reached while {action}: {exc.message}. Ask for more GPUs in IAM & Admin > "
            "Quotas (custom model serving, per region), or try another region."
        )
    if isinstance(exc, api.BadRequest) and _names_machine(exc.message):  # InvalidArgument
        return DeployError(
            f"The machine or accelerator is not available here while {action}: {exc.message}. "
            "Choose a region that offers it (--region), or another accelerator "
            "with `copier update`."
        )
    if isinstance(exc, api.ServiceUnavailable | api.RetryError) or _is_connection(exc):
        return DeployError(
            f"Cannot reach the Vertex AI API while {action} ({exc}): check your network and "
            "proxy, and --api-endpoint if you set one."
        )
    if isinstance(exc, api.GoogleAPICallError):
        return DeployError(f"Vertex AI refused {action}: {exc.message}")
    return exc


def _names_machine(message: str) -> bool:
    text = message.lower()
    return "machine" in text or "accelerator" in text


def _is_connection(exc: BaseException) -> bool:
    import requests

    return isinstance(exc, requests.exceptions.ConnectionError | ConnectionError)
