"""Baking the template for the tests: paths, answers, the supported combinations, the
component manifest, tree helpers.

Every bake goes into a directory the caller owns (a pytest tmp dir) with its own cookiecutter
config, so the replay file lands there too and nothing is written to the repository or ~.
"""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cookiecutter.main import cookiecutter

TEMPLATE = Path(__file__).resolve().parents[1]
PROJECT_TEMPLATE = TEMPLATE / "{{cookiecutter.project_slug}}"
MANIFEST_NAME = ".components.json"
BIN = Path(sys.executable).parent
RUFF = BIN / "ruff"

Answers = Mapping[str, Any]


def _load_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def questions() -> dict[str, Any]:
    """cookiecutter.json: each question with its default or its list of choices."""
    return {
        key: value
        for key, value in _load_json(TEMPLATE / "cookiecutter.json").items()
        if not key.startswith("_")
    }


def defaults() -> dict[str, Any]:
    """The default answer of every question (the first item of a choice)."""
    return {
        key: value[0] if isinstance(value, list) else value for key, value in questions().items()
    }


def copy_without_render() -> list[str]:
    """Glob patterns of files cookiecutter copies verbatim (vendored, never rendered)."""
    return _load_json(TEMPLATE / "cookiecutter.json").get("_copy_without_render", [])


def components() -> list[dict[str, Any]]:
    """The optional components: name, key, keep_when, paths (with `{package}`)."""
    return _load_json(PROJECT_TEMPLATE / MANIFEST_NAME)["components"]


def as_cli(value: Any) -> str:
    """An answer spelt as on the command line (`use_docker=false`)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def combination_id(answers: Answers) -> str:
    """A readable test id: `default`, or `key=value,key=value`."""
    return ",".join(f"{key}={as_cli(value)}" for key, value in answers.items()) or "default"


@dataclass(frozen=True)
class Baked:
    """A generated project and the context cookiecutter rendered it with."""

    project: Path
    context: dict[str, Any]

    @property
    def package(self) -> str:
        return self.context["package_name"]

    def save(self, path: Path) -> None:
        data = {"project": str(self.project), "context": self.context}
        path.write_text(json.dumps(data), encoding="utf-8")

    @classmethod
    def load(cls, path: Path) -> Baked:
        data = _load_json(path)
        return cls(Path(data["project"]), data["context"])


def write_config(base: Path) -> Path:
    """A cookiecutter config keeping its replay and clone dirs under `base`."""
    config = base / "cookiecutter-config.yaml"
    config.write_text(
        f"cookiecutters_dir: {json.dumps(str(base / 'cookiecutters'))}\n"
        f"replay_dir: {json.dumps(str(base / 'replay'))}\n",
        encoding="utf-8",
    )
    return config


def bake(base: Path, answers: Answers | None = None, **options: Any) -> Baked:
    """Bake into `base/out` with these answers (as `--no-input key=value` would)."""
    base.mkdir(parents=True, exist_ok=True)
    project = cookiecutter(
        str(TEMPLATE),
        no_input=True,
        extra_context={key: as_cli(value) for key, value in (answers or {}).items()},
        output_dir=str(base / "out"),
        config_file=str(write_config(base)),
        **options,
    )
    (replay,) = (base / "replay").glob("*.json")
    return Baked(Path(project), _load_json(replay)["cookiecutter"])


def uses_redis(answers: Answers) -> bool:
    """Whether a bake has the Redis parts: asked for, or brought by the arq task queue."""
    return bool(answers.get("use_redis")) or answers.get("task_queue") == "arq"


def expected_answers(answers: Answers) -> dict[str, Any]:
    """The answers a bake uses: the defaults overridden by `answers`, and what they imply."""
    chosen = {**defaults(), **answers}
    # cookiecutter.json's private computed variable, rendered as text: "yes" or "".
    return {**chosen, "__redis": "yes" if uses_redis(chosen) else ""}


# Every option alone, and the pairs that interact (the refusals are in test_validation.py).
SUPPORTED: list[dict[str, Any]] = [
    {},  # the defaults, which include python_version=3.11 and license=MIT
    {"database": "postgresql"},
    {"database": "none"},
    {"use_redis": True},
    {"use_metrics": False},
    {"use_docker": False},
    {"use_precommit": False},
    {"ci": "none"},
    {"license": "Apache-2.0"},
    {"license": "BSD-3-Clause"},
    {"license": "Proprietary"},
    {"python_version": "3.12"},
    {"python_version": "3.13"},
    {"python_version": "3.14"},
    # Pairs that interact: the compose file and the CI workflow both provide PostgreSQL.
    {"database": "postgresql", "use_docker": False},
    {"database": "postgresql", "ci": "none"},
    {"database": "postgresql", "python_version": "3.14"},
    {"use_metrics": False, "use_docker": False, "use_precommit": False, "ci": "none"},
    # Redis and the database are wired together in the repository, health, compose and CI.
    {"database": "postgresql", "use_redis": True},
    {"database": "none", "use_redis": True},
    {"database": "none", "use_docker": False},
    {"database": "none", "use_metrics": False},
    {"use_redis": True, "use_docker": False},
    # The manifests follow the database (volume or autoscaler, migration) and Redis (Secret).
    {"use_kubernetes": True},
    {"use_kubernetes": True, "database": "postgresql"},
    {"use_kubernetes": True, "database": "none"},
    {"use_kubernetes": True, "use_redis": True},
    # GitLab CI provides the services and follows python_version.
    {"ci": "gitlab"},
    {"ci": "gitlab", "database": "postgresql"},
    {"ci": "gitlab", "use_redis": True},
    {"ci": "gitlab", "python_version": "3.13"},
    # The task queue lives in Redis; its worker joins compose and the manifests.
    {"task_queue": "arq"},
    {"task_queue": "arq", "use_redis": True},
    {"task_queue": "arq", "database": "none"},
    {"task_queue": "arq", "use_kubernetes": True},
    {"use_kubernetes": True, "use_sentry": True, "use_tracing": True},
    {"task_queue": "arq", "use_docker": False},
    # The feed wraps the repository (SQL or in memory, cached or not); the rate limit comes
    # with Redis and leaves /metrics alone only when there is one.
    {"use_websocket": True},
    {"use_websocket": True, "database": "none"},
    {"use_websocket": True, "use_redis": True},
    {"use_websocket": True, "use_metrics": False},
    {"use_redis": True, "use_metrics": False},
    # Tracing follows the database (query spans) and Redis (command spans); Sentry stands alone.
    {"use_tracing": True},
    {"use_sentry": True},
    {"use_tracing": True, "database": "postgresql", "use_redis": True},
    {"use_tracing": True, "database": "none"},
    {"use_sentry": True, "database": "none"},
    # Users live in the database (either one); the login limit comes with Redis; the token
    # endpoint joins the rate limit, the OpenAPI document, the CLI and the Makefile.
    {"auth": "jwt"},
    {"auth": "jwt", "database": "postgresql", "use_redis": True},
    {"auth": "jwt", "task_queue": "arq", "use_kubernetes": True},
    # Every option on: the longest modules, and every component registering at once.
    {
        "database": "postgresql",
        "use_redis": True,
        "use_tracing": True,
        "use_sentry": True,
        "task_queue": "arq",
        "auth": "jwt",
        "use_websocket": True,
        "use_kubernetes": True,
    },
]


def supported(**wanted: Any) -> list[dict[str, Any]]:
    """The supported combinations whose answers include `wanted`."""
    return [
        answers
        for answers in SUPPORTED
        if all(expected_answers(answers)[key] == value for key, value in wanted.items())
    ]


def component_paths(component: Mapping[str, Any], package: str) -> list[str]:
    return [pattern.format(package=package) for pattern in component["paths"]]


def files(root: Path) -> Iterator[Path]:
    """Every file under `root`, sorted."""
    return (path for path in sorted(root.rglob("*")) if path.is_file())


def snapshot(root: Path) -> dict[str, str]:
    """Relative path -> content hash (files) or "dir", to compare trees."""
    tree = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).as_posix()
        if path.is_dir():
            tree[rel] = "dir"
        else:
            tree[rel] = hashlib.sha256(path.read_bytes()).hexdigest()
    return tree


# What pre_gen_project.py prints for each wrong answer: the value as typed, bare (`true`,
# `my-service`) or, when bare would be unclear (empty, spaces, quotes, control characters, or a
# yes/no answer given as text), as a JSON string on one line.
_REFUSAL = re.compile(r'ERROR: (?P<key>\w+)=(?P<value>"(?:[^"\\]|\\.)*"|\S+?): (?P<rule>.+)')


def refusals(stderr: str) -> list[re.Match[str]]:
    """The `ERROR: <key>=<value>: <rule>` lines of a refused bake."""
    return [m for line in stderr.splitlines() if (m := _REFUSAL.fullmatch(line.strip()))]


def assert_refused(stderr: str, key: str, value: str, rule: str) -> None:
    """One refusal names `key`, echoes `value` exactly as shown, and states `rule`; every
    refusal is about `key`."""
    found = refusals(stderr)
    assert found, f"no `ERROR: {key}=...` line on stderr:\n{stderr}"
    assert {(m["key"], m["value"]) for m in found} == {(key, value)}, stderr
    assert sum(rule in m["rule"] for m in found) == 1, stderr


def assert_nothing_written(output_dir: Path) -> None:
    leftovers = sorted(output_dir.rglob("*")) if output_dir.exists() else []
    assert not leftovers, f"a refused bake left files behind: {leftovers}"


def run(
    args: list[str | Path],
    cwd: Path,
    env: Mapping[str, str] | None = None,
    timeout: float = 120,
) -> subprocess.CompletedProcess[str]:
    """Run a command, capturing stdout and stderr together."""
    return subprocess.run(
        [str(arg) for arg in args],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=timeout,
        check=False,
    )
