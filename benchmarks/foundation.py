"""Foundation acceptance numbers: copy time and the default project's test-suite time.

    .venv/bin/python benchmarks/foundation.py [--copies 5]

Prints the median and spread of `copier copy --trust --defaults` over several runs, and the
wall time of the default project's own `pytest` run (offline, real weights).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def timed(cmd: list[str], **kwargs: object) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, check=True, capture_output=True, **kwargs)  # type: ignore[call-overload]
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--copies", type=int, default=5)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-foundation-"))
    copy = [sys.executable, "-m", "copier", "copy", "--trust", "--defaults", "--quiet"]
    times = [
        timed([*copy, "--vcs-ref", "HEAD", str(ROOT), str(work / f"p{i}")])
        for i in range(args.copies)
    ]
    print(
        f"copier copy --trust --defaults: median {statistics.median(times):.2f}s "
        f"(min {min(times):.2f}s, max {max(times):.2f}s, n={len(times)})"
    )
    project = work / "p0"
    env = {**os.environ, "PYTHONPATH": str(project / "src"), "HF_HUB_OFFLINE": "1"}
    suite = timed(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"], cwd=project, env=env
    )
    print(f"default project's own test suite: {suite:.1f}s")


if __name__ == "__main__":
    main()
