#!/usr/bin/env bash
# Make podman usable on a machine without Docker or a registry (see docs/images.md):
#  1. a containers.conf that works without systemd and CAP_SYS_RESOURCE (runc, cgroupfs,
#     explicit ulimits, file event logger), written to .cache/podman/containers.conf;
#  2. a local Debian bookworm base image with Python 3.11 made with debootstrap, tagged as
#     the Python base image the generated CPU/ONNX Dockerfiles use (extensions/catalog.py).
# Idempotent: the rootfs tarball is cached under .cache/podman/, the image is imported only
# when podman lacks it. Usage: scripts/podman_base.sh [IMAGE_NAME]
set -euo pipefail
cd "$(dirname "$0")/.."

BASE_IMAGE=${1:-$(python3 -c 'import sys; sys.path.insert(0, "extensions"); import catalog; print(catalog.PYTHON_BASE_IMAGE)')}
CACHE=.cache/podman
mkdir -p "$CACHE"
export CONTAINERS_CONF="$PWD/$CACHE/containers.conf"
cat > "$CONTAINERS_CONF" <<'CONF'
[containers]
default_ulimits = ["nofile=16384:16384", "nproc=16384:16384"]

[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
CONF

if podman image exists "$BASE_IMAGE"; then
  echo "==> $BASE_IMAGE already in podman's storage"
  exit 0
fi

TARBALL="$CACHE/py-base-bookworm.tar"
if [[ ! -s "$TARBALL" ]]; then
  ROOTFS=$(mktemp -d "${TMPDIR:-/tmp}/py-base-rootfs.XXXXXX")
  trap 'rm -rf "$ROOTFS"' EXIT
  echo "==> debootstrap bookworm (python3, venv, CA certificates) into $ROOTFS (~45 s)"
  debootstrap --variant=minbase --include=python3,python3-venv,ca-certificates \
    bookworm "$ROOTFS" >"$CACHE/debootstrap.log" 2>&1 || {
      tail -20 "$CACHE/debootstrap.log" >&2; exit 1; }
  # TLS to the package registries may be re-signed by a local CA: trust it inside the image.
  if compgen -G "/usr/local/share/ca-certificates/*.crt" >/dev/null; then
    cp /usr/local/share/ca-certificates/*.crt "$ROOTFS/usr/local/share/ca-certificates/"
    chroot "$ROOTFS" update-ca-certificates >/dev/null
  fi
  # Keep it slim like python:*-slim: no apt lists, docs or caches.
  rm -rf "$ROOTFS"/var/lib/apt/lists/* "$ROOTFS"/var/cache/apt/* "$ROOTFS"/var/cache/debconf/*-old \
    "$ROOTFS"/var/cache/ldconfig/* "$ROOTFS"/usr/share/doc/* "$ROOTFS"/usr/share/man/* \
    "$ROOTFS"/usr/share/locale/*
  tar -C "$ROOTFS" -cf "$TARBALL.tmp" . && mv "$TARBALL.tmp" "$TARBALL"
fi
echo "==> importing $TARBALL as $BASE_IMAGE"
podman import --change 'CMD ["python3"]' "$TARBALL" localhost/py-base-bookworm >/dev/null
podman tag localhost/py-base-bookworm "$BASE_IMAGE"
