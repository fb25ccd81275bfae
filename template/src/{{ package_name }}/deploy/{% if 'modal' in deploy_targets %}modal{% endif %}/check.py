"""Smoke check of a deployed web endpoint: wait for /health, then one predict request
(with engine=vllm: vLLM's /health, then one OpenAI chat completion)."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from typing import Any

from ...errors import DeployError
from ...project import ENGINE
from ...settings import get_settings
from ..openai_client import CHAT_ROUTE, post_chat

#: the one request the check sends
SMOKE_TEXT = "Hello from the deploy check."


def auth_headers() -> dict[str, str]:
    """The bearer token (auth on) and Modal's proxy auth headers, where configured."""
    settings = get_settings()
    headers = {}
    if settings.api_token is not None:
        headers["authorization"] = f"Bearer {settings.api_token.get_secret_value()}"
    if settings.modal_key is not None and settings.modal_secret is not None:
        headers["Modal-Key"] = settings.modal_key.get_secret_value()
        headers["Modal-Secret"] = settings.modal_secret.get_secret_value()
    return headers


def _wait_for_200(url: str, deadline: float, poll_s: float) -> None:
    while True:
        try:
            request = urllib.request.Request(url, headers=auth_headers())
            with urllib.request.urlopen(request, timeout=30) as reply:
                if reply.status == 200:
                    return
        except (urllib.error.URLError, TimeoutError) as exc:
            if time.monotonic() >= deadline:
                raise DeployError(f"{url} did not answer 200 in time: {exc}") from exc
        time.sleep(poll_s)


def check_web_endpoint(base_url: str, *, timeout_s: float, poll_s: float = 5.0) -> Any:
    """``GET /health`` (the app is up), ``GET /ready`` (weights loaded), one predict request.

    vLLM answers /health once its engine is up (it has no /ready) and the OpenAI API: the
    check sends it a chat completion and returns the answer's text.
    """
    if not base_url:
        raise DeployError("the app has no web URL: deploy it first with `deploy modal`")
    deadline = time.monotonic() + timeout_s
    _wait_for_200(f"{base_url}/health", deadline, poll_s)
    if ENGINE == "vllm":
        return post_chat(base_url + CHAT_ROUTE, headers=auth_headers(), timeout_s=timeout_s)
    _wait_for_200(f"{base_url}/ready", deadline, poll_s)
    headers = {"content-type": "application/json", **auth_headers()}
    request = urllib.request.Request(
        f"{base_url}/v1/predict",
        data=json.dumps({"inputs": [SMOKE_TEXT]}).encode(),
        headers=headers,
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=timeout_s) as reply:
        return json.loads(reply.read())
