"""The floor of the server's own ceiling: a bare ASGI app under the same uvicorn.

It reads each request's body and answers every request with the same bytes (the file
named by BARE_RESPONSE: what the generated server answers with MODEL_STUB=zero-cost), with
no framework, no validation, no batching. ``python bare_asgi.py PORT``.
"""

from __future__ import annotations

import os
import sys
from typing import Any

import uvicorn

BODY = open(os.environ["BARE_RESPONSE"], "rb").read()  # noqa: SIM115 (read once at start)
HEADERS = [(b"content-type", b"application/json"), (b"content-length", str(len(BODY)).encode())]


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            await send({"type": message["type"] + ".complete"})
            if message["type"] == "lifespan.shutdown":
                return
    more = True
    while more:
        message = await receive()
        more = message.get("more_body", False)
    await send({"type": "http.response.start", "status": 200, "headers": HEADERS})
    await send({"type": "http.response.body", "body": BODY})


if __name__ == "__main__":
    uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning")
