"""The check after a vLLM deploy: one OpenAI chat completion, sent and read back.

With engine=vllm every target runs vLLM's OpenAI-compatible server, so each deploy command's
check (SageMaker's InvokeEndpoint, Vertex AI's ``:rawPredict``, Modal's web endpoint) sends
``chat_request()`` and reads the answer with ``read_chat_reply``; ``post_chat`` is the plain
HTTP request for the targets that are reached by URL. The built-in server serves the same
route and accepts the same body, so the project's tests check this module against it.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

from ..errors import DeployError
from ..project import VLLM_SERVED_MODEL

CHAT_ROUTE = "/v1/chat/completions"
SMOKE_PROMPT = "Hello from the deploy check."
#: a short answer is enough to show that the model generates
SMOKE_MAX_TOKENS = 16


def chat_request(model: str = VLLM_SERVED_MODEL) -> dict[str, Any]:
    """An OpenAI chat completion request, as vLLM's ``/v1/chat/completions`` takes it."""
    return {
        "model": model,
        "messages": [{"role": "user", "content": SMOKE_PROMPT}],
        "max_tokens": SMOKE_MAX_TOKENS,
        "temperature": 0.0,
    }


def read_chat_reply(body: object, *, where: str) -> str:
    """The assistant's text of an OpenAI chat completion, or a DeployError naming what came."""
    try:
        text = body["choices"][0]["message"]["content"]  # type: ignore[index]
    except (KeyError, IndexError, TypeError):
        text = None
    if not isinstance(text, str):
        raise DeployError(
            f"{where} did not answer with an OpenAI chat completion (no "
            f"choices[0].message.content); it answered: {json.dumps(body)[:300]}. Check that "
            "the deployment runs vLLM's OpenAI server (engine=vllm) and its logs."
        )
    return text


def post_chat(url: str, *, headers: dict[str, str], timeout_s: float) -> str:
    """``POST url`` (a server's ``/v1/chat/completions``, or a route that forwards there)
    with ``chat_request()``; the answer's text."""
    request = urllib.request.Request(
        url,
        data=json.dumps(chat_request()).encode(),
        headers={"content-type": "application/json", **headers},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as reply:
            body = json.loads(reply.read())
    except urllib.error.HTTPError as exc:
        detail = exc.read().decode(errors="replace")[:300]
        raise DeployError(f"{url} answered HTTP {exc.code}: {detail}") from exc
    except (urllib.error.URLError, TimeoutError) as exc:
        raise DeployError(f"{url} could not be reached: {exc}") from exc
    except ValueError as exc:
        raise DeployError(f"{url} answered something that is not JSON: {exc}") from exc
    return read_chat_reply(body, where=url)
