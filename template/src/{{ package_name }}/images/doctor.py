"""``doctor``: does this host's NVIDIA driver run the project's CUDA image?"""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass

from ..project import HARDWARE


def _version_tuple(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", version))


@dataclass(frozen=True)
class DriverCheck:
    ok: bool
    message: str


def compare_driver(host_driver: str | None, minimum: str = HARDWARE.min_driver) -> DriverCheck:
    """Whether a host NVIDIA driver runs this project's CUDA image, and what to do if not."""
    if not minimum:
        return DriverCheck(True, "CPU image: no NVIDIA driver needed")
    cuda = f"CUDA {HARDWARE.cuda_version}" if HARDWARE.cuda_version else "the CUDA image"
    if host_driver is None:
        return DriverCheck(
            True,
            f"no NVIDIA driver on this host (nvidia-smi not found): you can build and push, but "
            f"the image runs only where the driver is {minimum} or newer ({cuda})",
        )
    if _version_tuple(host_driver) >= _version_tuple(minimum):
        return DriverCheck(
            True, f"host driver {host_driver} runs {cuda} (needs {minimum} or newer)"
        )
    return DriverCheck(
        False,
        f"host driver {host_driver} is older than {minimum}, the minimum for {cuda}: upgrade "
        f"the NVIDIA driver to {minimum} or newer, or regenerate for an older CUDA release",
    )


def host_driver_version() -> str | None:
    """The driver version nvidia-smi reports, or None where there is no NVIDIA driver."""
    nvidia_smi = shutil.which("nvidia-smi")
    if nvidia_smi is None:
        return None
    done = subprocess.run(
        [nvidia_smi, "--query-gpu=driver_version", "--format=csv,noheader"],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    lines = done.stdout.split()
    return lines[0] if done.returncode == 0 and lines else None
