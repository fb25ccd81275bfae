"""A small Dockerfile reader for the image tests: instructions, stages and build-arg defaults."""

from __future__ import annotations

import json
import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Stage:
    base: str  # the FROM image with global ARG defaults substituted
    name: str
    instructions: list[tuple[str, str]] = field(default_factory=list)

    def args(self) -> dict[str, str]:
        """ARG defaults declared in this stage."""
        found = {}
        for keyword, rest in self.instructions:
            if keyword == "ARG" and "=" in rest:
                key, value = rest.split("=", 1)
                found[key.strip()] = value.strip().strip('"')
        return found

    def all(self, keyword: str) -> list[str]:
        return [rest for kw, rest in self.instructions if kw == keyword]

    def key_values(self, keyword: str) -> dict[str, str]:
        """``KEY=value`` pairs of every ``keyword`` instruction (ENV, LABEL), later ones win."""
        found: dict[str, str] = {}
        for rest in self.all(keyword):
            for item in shlex.split(rest):
                key, _, value = item.partition("=")
                found[key] = value
        return found

    def env(self) -> dict[str, str]:
        return self.key_values("ENV")

    def labels(self) -> dict[str, str]:
        return self.key_values("LABEL")


def instructions(text: str) -> list[tuple[str, str]]:
    """(KEYWORD, rest) per instruction, continuation lines joined, comments dropped."""
    logical: list[str] = []
    current = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.endswith("\\"):
            current += line[:-1] + " "
            continue
        logical.append(current + line)
        current = ""
    if current:
        logical.append(current)
    out = []
    for line in logical:
        keyword, _, rest = line.partition(" ")
        out.append((keyword.upper(), re.sub(r"\s+", " ", rest).strip()))
    return out


def stages(path: Path) -> list[Stage]:
    """The build stages of a Dockerfile, FROM images resolved with the global ARG defaults."""
    global_args: dict[str, str] = {}
    result: list[Stage] = []
    for keyword, rest in instructions(path.read_text(encoding="utf-8")):
        if keyword == "FROM":
            parts = rest.split()
            image = re.sub(r"\$\{(\w+)\}", lambda m: global_args[m.group(1)], parts[0])
            name = parts[2] if len(parts) > 2 and parts[1].upper() == "AS" else ""
            result.append(Stage(base=image, name=name))
        elif not result:
            if keyword == "ARG" and "=" in rest:
                key, value = rest.split("=", 1)
                global_args[key] = value.strip('"')
        else:
            result[-1].instructions.append((keyword, rest))
    return result


def exec_form(rest: str) -> list[str] | None:
    """The JSON array of an exec-form CMD/ENTRYPOINT/HEALTHCHECK CMD, or None (shell form)."""
    start = rest.find("[")
    if start < 0:
        return None
    try:
        value = json.loads(rest[start:])
    except json.JSONDecodeError:
        return None
    return value if isinstance(value, list) else None
