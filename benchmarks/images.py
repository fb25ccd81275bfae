"""Measure the container images: size, cold and warm build time, start-up to /ready.

Renders the default answers plus the edge target (so both the CPU and the ONNX Dockerfile
exist), puts the real all-MiniLM-L6-v2 weights, the torch CPU wheel and an ONNX export into
the build context, and builds through the generated `images build` command (docker SDK ->
podman's Docker API), exactly as tests/test_images_podman.py does. Prints a Markdown table.

    /work/main/.venv/bin/python benchmarks/images.py [--flavors cpu onnx]

Cold build = `--no-cache` (every layer rebuilt, the base image reused); warm build = the
same build again after changing only application code (dependency layers reused).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.images.test_images_podman import (  # noqa: E402
    ANSWERS,
    OFFLINE_TORCH,
    Running,
    build,
    check_embeddings,
    env_prefix,
    image_size,
    package,
    prepare_context,
    start_service,
)
from tests.support.repo import render_answers, snapshot_template  # noqa: E402


def build_seconds(project: Path, host: str, flavor: str, *extra: str) -> tuple[str, float]:
    """The generated `images build`, as the image tests run it, and how long it took."""
    started = time.monotonic()
    reference = build(
        project, host, flavor, *extra, repository="localhost/image-bench", timeout=3600
    )
    return reference, time.monotonic() - started


def startup_seconds(host: str, reference: str, prefix: str, path: str) -> float:
    """Seconds from `run` to 200 on path (and a real request when path is /ready)."""
    started = time.monotonic()
    running = Running(host, reference, prefix)
    try:
        running.wait(path)
        seconds = time.monotonic() - started
        if path == "/ready":
            check_embeddings(running)
        return seconds
    finally:
        running.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--flavors", nargs="+", default=["cpu", "onnx"], choices=["cpu", "onnx"])
    opts = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        project = render_answers(snapshot_template(work / "template"), work / "project", ANSWERS)
        prepare_context(project)
        service, host = start_service(work)
        rows = []
        try:
            for flavor in opts.flavors:
                extra = OFFLINE_TORCH if flavor == "cpu" else []
                reference, cold = build_seconds(project, host, flavor, "--no-cache", *extra)
                code = project / "src" / package(project) / "serve" / "protocols" / "health.py"
                code.write_text(code.read_text() + "\n# application code change\n")
                reference, warm = build_seconds(project, host, flavor, *extra)
                size = image_size(host, reference)
                path = "/ready"
                ready = startup_seconds(host, reference, env_prefix(project), path)
                rows.append((flavor, size / 1e6, cold, warm, f"{ready:.1f} ({path})"))
        finally:
            service.terminate()
            service.wait(timeout=30)
    print("| image | size (MB) | cold build (s) | rebuild after code edit (s) | start (s) |")
    print("|---|---:|---:|---:|---:|")
    for name, megabytes, cold_s, warm_s, start in rows:
        print(f"| {name} | {megabytes:.0f} | {cold_s:.0f} | {warm_s:.1f} | {start} |")


if __name__ == "__main__":
    main()
