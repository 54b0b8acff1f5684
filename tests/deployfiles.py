"""Reading a bake's deploy files: YAML, `.env.example`, compose durations, the Dockerfile.

Shared by the tests of the Dockerfile, the compose file and the Kubernetes manifests (which
run the image the Dockerfile builds).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from baking import Baked


def read_yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def env_example(baked: Baked) -> dict[str, str]:
    """The settings and their defaults, as `.env.example` lists them."""
    text = (baked.project / ".env.example").read_text(encoding="utf-8")
    lines = [line.strip() for line in text.splitlines()]
    pairs = [line.split("=", 1) for line in lines if line and not line.startswith("#")]
    return dict(pairs)


def seconds(duration: str) -> float:
    """A compose duration such as `30s` or `1m30s`."""
    parts = re.findall(r"(\d+(?:\.\d+)?)(h|ms|m|s)", duration)
    assert parts, f"not a duration: {duration!r}"
    unit = {"h": 3600, "m": 60, "s": 1, "ms": 0.001}
    return sum(float(number) * unit[suffix] for number, suffix in parts)


@dataclass(frozen=True)
class Instruction:
    stage: int  # index of the FROM it follows; -1 before the first
    keyword: str
    args: str


def parse_dockerfile(text: str) -> list[Instruction]:
    """The instructions, continuation lines joined, comments and blank lines dropped."""
    logical, pending = [], ""
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):  # Docker skips these inside a continuation
            continue
        if stripped.endswith("\\"):
            pending += stripped[:-1].strip() + " "
        else:
            logical.append(pending + stripped)
            pending = ""
    assert not pending, "the Dockerfile ends inside a continuation line"
    instructions, stage = [], -1
    for line in logical:
        keyword, _, args = line.partition(" ")
        stage += keyword.upper() == "FROM"
        instructions.append(Instruction(stage, keyword.upper(), args.strip()))
    return instructions


@dataclass(frozen=True)
class Dockerfile:
    text: str
    instructions: list[Instruction]

    @classmethod
    def read(cls, baked: Baked) -> Dockerfile:
        text = (baked.project / "Dockerfile").read_text(encoding="utf-8")
        return cls(text, parse_dockerfile(text))

    def expand(self, value: str) -> str:
        """Substitute the global ARGs (those before the first FROM) with their defaults."""
        args = dict(
            i.args.partition("=")[::2]
            for i in self.instructions
            if i.keyword == "ARG" and i.stage == -1
        )
        return re.sub(r"\$\{(\w+)\}|\$(\w+)", lambda m: args.get(m[1] or m[2], m[0]), value)

    def stages(self) -> list[tuple[str, str | None]]:
        """(image, stage name) of each FROM, ARGs expanded."""
        found = []
        for i in self.of("FROM"):
            words = [word for word in i.args.split() if not word.startswith("--")]
            name = words[2] if len(words) == 3 and words[1].lower() == "as" else None
            found.append((self.expand(words[0]), name))
        return found

    def of(self, keyword: str, stage: int | None = None) -> list[Instruction]:
        return [
            i
            for i in self.instructions
            if i.keyword == keyword and (stage is None or i.stage == stage)
        ]

    @property
    def final(self) -> int:
        return self.instructions[-1].stage

    def final_user(self) -> str:
        """The user of the final stage's CMD (the last USER before it)."""
        final = [i for i in self.instructions if i.stage == self.final]
        cmd = max(n for n, i in enumerate(final) if i.keyword == "CMD")
        users = [i.args for i in final[:cmd] if i.keyword == "USER"]
        assert users, "the final stage sets no USER before CMD: the service would run as root"
        return users[-1].split(":")[0]

    def env(self, name: str) -> str | None:
        """The value the final stage's ENV gives `name`, if any."""
        values = [
            match[1]
            for i in self.of("ENV", self.final)
            for match in re.finditer(r"(?:^|\s)(?:" + name + r")=(\S+)", i.args)
        ]
        return values[-1] if values else None
