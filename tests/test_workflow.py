"""The template's own CI workflow (.github/workflows/template.yml at the repository root).

Cookiecutter never renders the root, so the file reaches GitHub as written: it must parse, its
`${{ }}` expressions must be whole and name what exists, and every option set of its project
matrix must be answers that cookiecutter.json offers and the hooks accept.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from baking import BIN, TEMPLATE, Baked, as_cli, questions, run

WORKFLOW = TEMPLATE / ".github" / "workflows" / "template.yml"
DEPENDABOT = TEMPLATE / ".github" / "dependabot.yml"
PYTHONS = ["3.11", "3.12", "3.13"]
EXPRESSION = re.compile(r"\$\{\{(?P<body>.*?)\}\}")
# Contexts and functions of GitHub's expression language that this workflow may use.
CONTEXTS = {"github", "env", "matrix", "runner", "job", "steps", "needs", "strategy", "vars"}
FUNCTIONS = {"hashFiles", "toJSON", "fromJSON", "format", "join", "contains", "startsWith"}
FUNCTIONS |= {"endsWith", "success", "failure", "always", "cancelled"}
# A name that starts a property path or calls a function (`matrix` in `matrix.python-version`).
ROOT_NAME = re.compile(r"(?<![\w.-])[A-Za-z_][\w-]*")


def _load() -> dict[Any, Any]:
    return yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def workflow() -> dict[Any, Any]:
    return _load()


def _strings(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _strings(key)
            yield from _strings(value)
    elif isinstance(node, list):
        for item in node:
            yield from _strings(item)
    elif isinstance(node, str):
        yield node


def _matrix_keys(job: dict[str, Any]) -> set[str]:
    matrix = job.get("strategy", {}).get("matrix", {})
    keys = {key for key in matrix if key not in ("include", "exclude")}
    keys |= {key for row in matrix.get("include", []) for key in row}
    return keys


def _option_sets() -> list[tuple[str, str, str]]:
    """(job, python-version, options) of every matrix row that bakes a project."""
    rows = []
    for name, job in _load()["jobs"].items():
        for row in job.get("strategy", {}).get("matrix", {}).get("include", []):
            if "options" in row:
                rows.append((name, str(row["python-version"]), row["options"]))
    return rows


def _answers(options: str) -> dict[str, str]:
    words = shlex.split(options)
    assert all(word.count("=") == 1 for word in words), f"not key=value words: {options!r}"
    answers = dict(word.split("=") for word in words)
    assert len(answers) == len(words), f"a key given twice: {options!r}"
    return answers


OPTION_SETS = _option_sets()
OPTION_IDS = [options or "default" for _, _, options in OPTION_SETS]


def test_the_workflow_is_outside_the_project_template() -> None:
    assert WORKFLOW.is_file()
    assert "{{cookiecutter.project_slug}}" not in WORKFLOW.relative_to(TEMPLATE).as_posix()


def test_the_workflow_parses_with_its_triggers(workflow: dict[Any, Any]) -> None:
    # YAML 1.1 reads the key `on` as true.
    triggers = workflow.get("on", workflow.get(True))
    assert {"push", "pull_request"} <= set(triggers), triggers
    assert workflow["permissions"] == {"contents": "read"}


def test_expressions_are_whole() -> None:
    text = WORKFLOW.read_text(encoding="utf-8")
    without = EXPRESSION.sub("", text)
    assert "${{" not in without, "an expression is not closed"
    assert "{{" not in without, "`{{` outside a `${{ }}` expression (template syntax?)"
    assert "}}" not in without, "`}}` outside a `${{ }}` expression"
    assert "{%" not in text, "Jinja in a file cookiecutter never renders"
    bodies = [match["body"].strip() for match in EXPRESSION.finditer(text)]
    assert bodies, "no expression found"
    assert all(bodies), "an empty ${{ }} expression"


def test_expressions_name_known_contexts_and_matrix_keys(workflow: dict[Any, Any]) -> None:
    top = {key: value for key, value in workflow.items() if key != "jobs"}
    scopes = [("(top level)", top, set())]
    scopes += [(name, job, _matrix_keys(job)) for name, job in workflow["jobs"].items()]
    problems = []
    for name, scope, matrix_keys in scopes:
        for string in _strings(scope):
            for match in EXPRESSION.finditer(string):
                body = re.sub(r"'[^']*'", "''", match["body"])
                problems += [
                    f"{name}: unknown name {word!r} in {match[0]}"
                    for word in ROOT_NAME.findall(body)
                    if word not in CONTEXTS | FUNCTIONS | {"true", "false", "null"}
                ]
                problems += [
                    f"{name}: matrix.{key} is not a key of its matrix"
                    for key in re.findall(r"\bmatrix\.([\w-]+)", body)
                    if key not in matrix_keys
                ]
    assert not problems, "\n".join(problems)


def test_template_tests_run_on_every_supported_python_with_services(
    workflow: dict[Any, Any],
) -> None:
    job = workflow["jobs"]["test"]
    assert job["strategy"]["matrix"]["python-version"] == PYTHONS
    choices = questions()["python_version"]
    assert set(PYTHONS) <= set(choices)
    images = {name: service["image"].split(":")[0] for name, service in job["services"].items()}
    assert images == {"postgres": "postgres", "redis": "redis"}
    assert job["env"]["TEST_DATABASE_URL"].startswith("postgresql+asyncpg://")
    assert ":5432/" in job["env"]["TEST_DATABASE_URL"]
    assert ":6379/" in job["env"]["TEST_REDIS_URL"]
    commands = [step.get("run", "") for step in job["steps"]]
    assert "make test" in commands, "the template tests (slow ones included) are not run"
    # Every Python a tested combination may ask for is installed.
    installed = {
        version
        for step in job["steps"]
        if str(step.get("uses", "")).startswith("actions/setup-python@")
        for version in str(step["with"]["python-version"]).split()
    }
    assert set(choices) <= installed


def test_every_job_caches_uv(workflow: dict[Any, Any]) -> None:
    for name, job in workflow["jobs"].items():
        setup = [
            step for step in job["steps"] if str(step.get("uses", "")).startswith("astral-sh/")
        ]
        assert setup, f"{name}: no astral-sh/setup-uv step"
        assert all(step["with"]["enable-cache"] is True for step in setup), name


def test_a_job_bakes_the_default_project_and_runs_its_checks(workflow: dict[Any, Any]) -> None:
    job = workflow["jobs"]["project"]
    rows = job["strategy"]["matrix"]["include"]
    assert any(row["options"] == "" for row in rows), "no row bakes the default project"
    commands = " && ".join(step.get("run", "") for step in job["steps"])
    assert "cookiecutter --no-input" in commands
    assert (
        commands.index("cookiecutter") < commands.index("make lint") < commands.index("make test")
    )
    assert {"postgres", "redis"} <= set(job["services"])


@pytest.mark.parametrize(("job", "python", "options"), OPTION_SETS, ids=OPTION_IDS)
def test_option_set_exists_in_cookiecutter_json(job: str, python: str, options: str) -> None:
    asked = questions()
    answers = _answers(options)
    for key, value in answers.items():
        assert key in asked, f"{job}: {key} is not a question of cookiecutter.json"
        default = asked[key]
        if isinstance(default, list):
            assert value in default, f"{job}: {key}={value} is not one of {default}"
        elif isinstance(default, bool):
            assert value in ("true", "false"), f"{job}: {key}={value} is not true or false"
    wanted = answers.get("python_version", as_cli(asked["python_version"][0]))
    assert tuple(map(int, python.split("."))) >= tuple(map(int, wanted.split("."))), (
        f"{job}: runs on Python {python}, older than python_version={wanted}"
    )
    assert python in PYTHONS


@pytest.mark.parametrize(("job", "python", "options"), OPTION_SETS, ids=OPTION_IDS)
def test_option_set_is_accepted_by_the_hooks(
    job: str, python: str, options: str, bake_fresh: Any
) -> None:
    baked: Baked = bake_fresh(_answers(options))
    assert (baked.project / "Makefile").is_file()
    # The root workflow is the template's, never the project's.
    assert not (baked.project / ".github" / "workflows" / WORKFLOW.name).exists()


def test_projects_get_only_the_test_urls(workflow: dict[Any, Any]) -> None:
    # DATABASE_URL or REDIS_URL in the environment would override a baked project's own
    # settings (a SQLite project pointed at PostgreSQL); the tests read TEST_*_URL.
    for name, job in workflow["jobs"].items():
        assert not {"DATABASE_URL", "REDIS_URL"} & set(job.get("env", {})), name


def test_job_names_are_unique_and_readable(workflow: dict[Any, Any]) -> None:
    names = [job.get("name", key) for key, job in workflow["jobs"].items()]
    assert len(set(names)) == len(names)
    assert all(isinstance(name, str) and name for name in names)


@pytest.mark.parametrize(
    ("path", "schema"),
    [(WORKFLOW, "vendor.github-workflows"), (DEPENDABOT, "vendor.dependabot")],
    ids=["workflow", "dependabot"],
)
def test_matches_its_schema(path: Path, schema: str) -> None:
    # SchemaStore's schemas, shipped inside check-jsonschema: no network needed.
    result = run([BIN / "check-jsonschema", "--builtin-schema", schema, path], cwd=TEMPLATE)
    assert result.returncode == 0, result.stdout


def test_root_dependabot_watches_the_workflow_actions() -> None:
    config = yaml.safe_load((TEMPLATE / ".github" / "dependabot.yml").read_text(encoding="utf-8"))
    ecosystems = {update["package-ecosystem"] for update in config["updates"]}
    assert "github-actions" in ecosystems
