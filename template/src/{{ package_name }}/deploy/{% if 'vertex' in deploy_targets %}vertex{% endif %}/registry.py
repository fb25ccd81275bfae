"""Artifact Registry: the Docker repository Vertex AI pulls from, created when missing, and
the push of the local build to it with the user's Google credentials.

The REST API (``artifactregistry.googleapis.com/v1``) through google-auth's
``AuthorizedSession``: no extra client library. Docker logs in with an OAuth access token as
the password of the user ``oauth2accesstoken``, as ``gcloud auth configure-docker`` does.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from ...errors import DeployError
from ...project import PROJECT_SLUG

if TYPE_CHECKING:
    from google.auth.credentials import Credentials

API = "https://artifactregistry.googleapis.com"
DOCKER_USER = "oauth2accesstoken"
#: the roles a push needs; docs/vertex.md has the full list
REQUIRED_ROLES = "roles/artifactregistry.admin (create) or roles/artifactregistry.writer (push)"


def host(region: str) -> str:
    return f"{region}-docker.pkg.dev"


def image_repository(project: str, region: str, repository: str) -> str:
    """``REGION-docker.pkg.dev/PROJECT/REPOSITORY/IMAGE`` for this project's image."""
    return f"{host(region)}/{project}/{repository}/{PROJECT_SLUG}"


def ensure_repository(
    credentials: Credentials,
    project: str,
    region: str,
    repository: str,
    *,
    api: str = API,
    timeout_s: float = 120.0,
    poll_s: float = 1.0,
) -> bool:
    """Create the Docker repository unless it exists; True when it was created."""
    parent = f"{api.rstrip('/')}/v1/projects/{project}/locations/{region}/repositories"
    session = _session(credentials)
    found = _call(session, "GET", f"{parent}/{repository}", f"looking up {repository}")
    if found.status_code == 200:
        return False
    if found.status_code != 404:
        raise _refused(found, f"looking up Artifact Registry repository {repository}")
    body = {
        "format": "DOCKER",
        "description": f"Images of {PROJECT_SLUG} for Vertex AI",
        "labels": {"managed-by": PROJECT_SLUG},
    }
    created = _call(
        session,
        "POST",
        f"{parent}?repositoryId={repository}",
        f"creating {repository}",
        json=body,
    )
    if created.status_code >= 400:
        raise _refused(created, f"creating Artifact Registry repository {repository}")
    deadline = time.monotonic() + timeout_s
    while _call(session, "GET", f"{parent}/{repository}", "waiting").status_code != 200:
        if time.monotonic() >= deadline:
            raise DeployError(
                f"Artifact Registry repository {repository} was not ready after {timeout_s:.0f} s"
            )
        time.sleep(poll_s)
    return True


def docker_login(credentials: Credentials, region: str) -> dict[str, str]:
    """The docker SDK's auth_config for the regional registry (a short-lived access token)."""
    if not credentials.valid:
        import google.auth.transport.requests

        try:
            credentials.refresh(google.auth.transport.requests.Request())
        except Exception as exc:
            raise DeployError(
                f"could not get a Google access token for Docker ({exc}): run "
                "`gcloud auth application-default login` again."
            ) from exc
    token = getattr(credentials, "token", None)
    if not token:
        raise DeployError(
            "these Google credentials give no access token for Docker: use a user or "
            "service-account login (`gcloud auth application-default login`)."
        )
    return {
        "username": DOCKER_USER,
        "password": str(token),
        "serveraddress": f"https://{host(region)}",
    }


def push(
    credentials: Credentials,
    project: str,
    region: str,
    repository: str,
    tag: str,
    *,
    api: str = API,
) -> str:
    """Ensure the repository, tag the local build into it and push; ``...@sha256:...``."""
    from ...images.builder import publish

    ensure_repository(credentials, project, region, repository, api=api)
    target = image_repository(project, region, repository)
    return publish(target, tag, auth_config=docker_login(credentials, region)).reference


def _session(credentials: Credentials) -> Any:
    from google.auth.transport.requests import AuthorizedSession

    return AuthorizedSession(credentials)


def _call(session: Any, method: str, url: str, action: str, **kwargs: Any) -> Any:
    import requests

    try:
        return session.request(method, url, timeout=60, **kwargs)
    except requests.exceptions.ConnectionError as exc:
        raise DeployError(
            f"Cannot reach the Artifact Registry API while {action} ({exc}): check your "
            "network and proxy, and --registry-api if you set one."
        ) from None


def _refused(response: Any, action: str) -> DeployError:
    try:
        message = response.json()["error"]["message"]
    except (ValueError, KeyError, TypeError):
        message = response.text[:200]
    if response.status_code in (401, 403):
        return DeployError(
            f"Permission denied while {action}: {message}. The account needs {REQUIRED_ROLES}, "
            "and the Artifact Registry API must be enabled in the project."
        )
    return DeployError(f"Artifact Registry refused {action} ({response.status_code}): {message}")
