"""A recorded Docker Engine API on 127.0.0.1: images in memory, every call recorded.

No Docker engine here, and no registry to push to: podman's Docker-compatible service
(``podman system service``) builds and runs images for real in the template's own tests, but
a push needs a registry that accepts layers, which nothing on this machine provides. So the
push tests point the real docker SDK (``DOCKER_HOST=tcp://127.0.0.1:PORT``) at this
stand-in, which answers the engine API calls a push makes (``/version``, image inspect,
``/images/{name}/tag``, ``/images/{name}/push``) the way Docker documents them, records the
registry login each push carries (``X-Registry-Auth``) and reports a digest in the push
stream's ``aux`` record, as Docker does. ``POST /build`` is answered too (the build context
is received and its size recorded, nothing is built) so a guide's ``images build`` runs
against it. ``fail_next`` makes the next matching call fail with an engine error.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from .live_server import http_standin

API_VERSION = "1.45"


@dataclass
class Pushed:
    reference: str  # repository:tag
    auth: dict[str, str]
    digest: str


@dataclass
class DockerStandIn:
    url: str = ""
    #: local images: "repository:tag" -> image id
    images: dict[str, str] = field(default_factory=dict)
    pushes: list[Pushed] = field(default_factory=list)
    #: (tag, Dockerfile, bytes of build context) of each build
    builds: list[tuple[str, str, int]] = field(default_factory=list)
    calls: list[str] = field(default_factory=list)
    #: path suffix ("/push", "/tag") -> (HTTP code, message) for the next call to it
    fail_next: dict[str, tuple[int, str]] = field(default_factory=dict)

    def add_image(self, reference: str) -> str:
        image_id = "sha256:" + hashlib.sha256(reference.encode()).hexdigest()
        self.images[reference] = image_id
        return image_id

    def handle(
        self, method: str, path: str, headers: dict[str, str], received: int = 0
    ) -> tuple[int, Any]:
        parts = urlsplit(path)
        route = re.sub(r"^/v[\d.]+", "", unquote(parts.path))
        query = {key: values[0] for key, values in parse_qs(parts.query).items()}
        self.calls.append(f"{method} {route}")
        for suffix, (code, message) in list(self.fail_next.items()):
            if route.endswith(suffix):
                del self.fail_next[suffix]
                return code, {"message": message}
        if route == "/_ping":
            return 200, "OK"
        if route == "/version":
            return 200, {"Version": "27.0.0-standin", "ApiVersion": API_VERSION}
        if route == "/build" and method == "POST":
            tag = query["t"]
            image_id = self.add_image(tag)
            self.builds.append((tag, query.get("dockerfile", "Dockerfile"), received))
            return 200, [
                {"stream": f"Step 1/1 : (stand-in) {query.get('dockerfile')}\n"},
                {"aux": {"ID": image_id}},
                {"stream": f"Successfully tagged {tag}\n"},
            ]
        match = re.fullmatch(r"/images/(.+)/(json|tag|push)", route)
        if not match:
            return 404, {"message": f"page not found: {route}"}
        name, action = match.groups()
        if action == "push":
            name = f"{name}:{query.get('tag') or 'latest'}"
        reference = name if ":" in name.rsplit("/", 1)[-1] else f"{name}:latest"
        image_id = self.images.get(reference) or (name if name in self.images.values() else "")
        if not image_id:
            return 404, {"message": f"No such image: {reference}"}
        if action == "json" and method == "GET":
            return 200, {"Id": image_id, "RepoTags": [reference], "Size": 123_456_789}
        if action == "tag" and method == "POST":
            self.images[f"{query['repo']}:{query.get('tag') or 'latest'}"] = image_id
            return 201, ""
        if action == "push" and method == "POST":
            auth = json.loads(base64.urlsafe_b64decode(headers.get("x-registry-auth") or "e30="))
            digest = "sha256:" + hashlib.sha256(f"{reference}{image_id}".encode()).hexdigest()
            self.pushes.append(Pushed(reference, auth, digest))
            tag = reference.rsplit(":", 1)[1]
            return 200, [
                {"status": f"The push refers to repository [{reference.rsplit(':', 1)[0]}]"},
                {"status": "Pushed", "progressDetail": {}, "id": image_id[7:19]},
                {"status": f"{tag}: digest: {digest} size: 1234"},
                {"progressDetail": {}, "aux": {"Tag": tag, "Digest": digest, "Size": 1234}},
            ]
        return 405, {"message": f"{method} {route} is not supported"}


@contextmanager
def serve_docker_standin() -> Iterator[DockerStandIn]:
    """Run the stand-in on a free port of 127.0.0.1; point DOCKER_HOST at ``state.url``."""
    state = DockerStandIn()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # chunked push streams, keep-alive like the engine

        def log_message(self, *args: Any) -> None:
            pass

        def _serve(self, method: str) -> None:
            length = int(self.headers.get("content-length") or 0)
            received = len(self.rfile.read(length)) if length else 0
            headers = {key.lower(): value for key, value in self.headers.items()}
            code, reply = state.handle(method, self.path, headers, received)
            if isinstance(reply, list):  # a JSON stream, one chunk per object, as Docker sends
                self.send_response(code)
                self.send_header("content-type", "application/json")
                self.send_header("transfer-encoding", "chunked")
                self.end_headers()
                for item in reply:
                    chunk = (json.dumps(item) + "\r\n").encode()
                    self.wfile.write(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
                self.wfile.write(b"0\r\n\r\n")
                return
            data = reply.encode() if isinstance(reply, str) else json.dumps(reply).encode()
            self.send_response(code)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            self._serve("GET")

        def do_HEAD(self) -> None:
            self._serve("HEAD")

        def do_POST(self) -> None:
            self._serve("POST")

    with http_standin(Handler) as port:
        state.url = f"tcp://127.0.0.1:{port}"
        yield state
