"""Post-copy task: summarise what was generated and check a local model path.

Copier runs it in the new project's directory (``_tasks`` in copier.yml). It never fails the
copy; it only tells the user what to look at next.
"""

from __future__ import annotations

import sys
from pathlib import Path

import yaml


def main() -> int:
    answers_file = Path(".copier-answers.yml")
    if not answers_file.exists():
        return 0
    answers = yaml.safe_load(answers_file.read_text(encoding="utf-8")) or {}
    model_id = str(answers.get("model_id", ""))
    if model_id.startswith(("/", "./", "../", "~/")):
        path = Path(model_id).expanduser()
        if not (path / "config.json").exists():
            print(
                f"warning: model directory {path} has no config.json yet; copy the weights "
                "there before `make serve`, or change model_id with `copier update`.",
                file=sys.stderr,
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
