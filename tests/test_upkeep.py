"""What keeps the template and its projects current and pleasant to work on.

The template's version (one place: `_template_version` in cookiecutter.json, never asked) and
its CHANGELOG; in each project: the version stamp, the dependency bots, the lock file that the
install targets follow, `make dev`, `make help` and `.editorconfig`.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
import yaml
from cookiecutter.generate import generate_context
from cookiecutter.prompt import prompt_for_config

from baking import BIN, TEMPLATE, Baked, combination_id, expected_answers, files, run
from test_bake import SUPPORTED

CHANGELOG = TEMPLATE / "CHANGELOG.md"
SEMVER = re.compile(r"(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)")
RELEASE = re.compile(rf"\[(?P<version>{SEMVER.pattern})\] - (?P<date>\d{{4}}-\d{{2}}-\d{{2}})")
# Keep a Changelog's kinds of change, and the options cookiecutter.json has but the hooks refuse.
KINDS = {"Added", "Changed", "Deprecated", "Removed", "Fixed", "Security", "Not yet available"}
# A Makefile rule for a named target (not a file, not a variable assignment).
TARGET = re.compile(r"^([a-z0-9][a-z0-9-]*):(?![:=])", re.MULTILINE)
GITHUB = [answers for answers in SUPPORTED if expected_answers(answers)["ci"] == "github"]
GITLAB = [answers for answers in SUPPORTED if expected_answers(answers)["ci"] == "gitlab"]


def cookiecutter_json() -> dict[str, Any]:
    return json.loads((TEMPLATE / "cookiecutter.json").read_text(encoding="utf-8"))


def version_tuple(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split("."))


@pytest.fixture(params=SUPPORTED, ids=combination_id)
def combination(request: pytest.FixtureRequest) -> dict[str, Any]:
    return request.param


# The template's version.


def test_template_version_is_semantic_and_private() -> None:
    data = cookiecutter_json()
    assert SEMVER.fullmatch(data["_template_version"]), data["_template_version"]
    assert "_template_version" not in data["__prompts__"]


def test_only_questions_are_asked_each_with_a_prompt(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(TEMPLATE))  # for the `literal` filter extension
    asked: list[str] = []

    def answer(name: str, default: Any, *_: Any, **__: Any) -> Any:
        asked.append(name)
        return default

    def choose(name: str, options: list[Any], *_: Any, **__: Any) -> Any:
        asked.append(name)
        return options[0]

    monkeypatch.setattr("cookiecutter.prompt.read_user_variable", answer)
    monkeypatch.setattr("cookiecutter.prompt.read_user_yes_no", answer)
    monkeypatch.setattr("cookiecutter.prompt.read_user_choice", choose)
    context = generate_context(context_file=str(TEMPLATE / "cookiecutter.json"))
    prompts = context["cookiecutter"]["__prompts__"]
    answers = prompt_for_config(context, no_input=False)
    questions = [key for key in cookiecutter_json() if not key.startswith("_")]
    assert asked == questions
    assert set(prompts) == set(questions), "every question has a prompt, and only questions"
    assert answers["_template_version"] == cookiecutter_json()["_template_version"]


def _changelog_sections() -> list[tuple[str, list[str]]]:
    """(second-level heading, its third-level headings) in order."""
    sections: list[tuple[str, list[str]]] = []
    for line in CHANGELOG.read_text(encoding="utf-8").splitlines():
        if line.startswith("## "):
            sections.append((line[3:].strip(), []))
        elif line.startswith("### "):
            assert sections, f"{line!r} before the first version"
            sections[-1][1].append(line[4:].strip())
    return sections


def test_changelog_keeps_a_changelog_form() -> None:
    sections = _changelog_sections()
    assert sections[0][0] == "[Unreleased]", "the first section is [Unreleased]"
    releases = [RELEASE.fullmatch(heading) for heading, _ in sections[1:]]
    bad = [heading for (heading, _), match in zip(sections[1:], releases, strict=True) if not match]
    assert not bad, f"not `[X.Y.Z] - YYYY-MM-DD`: {bad}"
    versions = [version_tuple(match["version"]) for match in releases if match]
    assert versions == sorted(versions, reverse=True), "releases are not newest first"
    assert len(set(versions)) == len(versions), "a version is listed twice"
    for heading, kinds in sections:
        assert set(kinds) <= KINDS, f"{heading}: unknown kinds {set(kinds) - KINDS}"
        assert len(set(kinds)) == len(kinds), f"{heading}: a kind is listed twice"


def test_template_version_is_not_older_than_the_last_release() -> None:
    current = version_tuple(cookiecutter_json()["_template_version"])
    released = [
        version_tuple(match["version"])
        for heading, _ in _changelog_sections()[1:]
        if (match := RELEASE.fullmatch(heading))
    ]
    assert all(current >= version for version in released), (current, released)


def test_project_names_the_template_version(baked: Baked) -> None:
    first = (baked.project / "pyproject.toml").read_text(encoding="utf-8").splitlines()[0]
    version = cookiecutter_json()["_template_version"]
    assert first.startswith("# Generated by the aiohttp service template "), first
    assert f" {version}:" in first
    assert baked.context["_template_version"] == version


# make help, make dev, .editorconfig.


def test_make_help_lists_every_target_and_every_target_is_phony(baked: Baked) -> None:
    makefile = (baked.project / "Makefile").read_text(encoding="utf-8")
    targets = TARGET.findall(makefile)
    undocumented = [
        target
        for target in targets
        if not re.search(rf"^{re.escape(target)}:[^\n]*## \S", makefile, re.MULTILINE)
    ]
    assert not undocumented, f"targets without a `## description`: {undocumented}"
    phony = {
        name
        for line in makefile.splitlines()
        if line.startswith(".PHONY:")
        for name in line.split(":", 1)[1].split()
    }
    assert set(targets) <= phony, f"not in .PHONY: {set(targets) - phony}"
    assert phony <= set(targets), f".PHONY names what is not a target: {phony - set(targets)}"
    result = run(["make", "--no-print-directory", "-s", "help"], cwd=baked.project)
    assert result.returncode == 0, result.stdout
    listed = [line.split()[0] for line in result.stdout.splitlines() if line.strip()]
    assert listed == targets


def test_make_dev_serves_with_autoreload_and_console_logs(baked: Baked) -> None:
    makefile = (baked.project / "Makefile").read_text(encoding="utf-8")
    recipe = re.search(r"^dev:.*\n\t(?P<command>.+)", makefile, re.MULTILINE)
    assert recipe, "no dev target"
    assert "LOG_FORMAT=console" in recipe["command"]
    assert "watchfiles" in recipe["command"]
    assert f"-m {baked.package} serve" in recipe["command"]
    assert recipe["command"].rstrip().endswith(" src")
    pyproject = (baked.project / "pyproject.toml").read_text(encoding="utf-8")
    assert re.search(r'^    "watchfiles>=[\d.]+",$', pyproject, re.MULTILINE)


def test_files_follow_the_editorconfig(baked: Baked) -> None:
    config = (baked.project / ".editorconfig").read_text(encoding="utf-8")
    assert "root = true" in config.splitlines()
    assert "[Makefile]\nindent_style = tab" in config
    problems = []
    for path in files(baked.project):
        data = path.read_bytes()
        if b"\0" in data:
            continue
        rel = path.relative_to(baked.project).as_posix()
        text = data.decode("utf-8")
        if b"\r" in data:
            problems.append(f"{rel}: CR line ends")
        if text and not text.endswith("\n"):
            problems.append(f"{rel}: no newline at the end")
        problems += [
            f"{rel}:{number}: trailing whitespace"
            for number, line in enumerate(text.splitlines(), 1)
            if line != line.rstrip()
        ]
        if path.name != "Makefile":
            problems += [
                f"{rel}:{number}: indented with a tab"
                for number, line in enumerate(text.splitlines(), 1)
                if line.startswith("\t")
            ]
    assert not problems, "\n".join(problems)


# Dependency bots.


@pytest.mark.parametrize("combination", GITHUB, ids=combination_id)
def test_dependabot_watches_python_actions_and_images(
    baked: Baked, combination: dict[str, Any]
) -> None:
    answers = expected_answers(combination)
    config = yaml.safe_load((baked.project / ".github" / "dependabot.yml").read_text("utf-8"))
    assert config["version"] == 2
    updates = {update["package-ecosystem"]: update for update in config["updates"]}
    expected = {"uv", "github-actions"}
    if answers["use_docker"] and (answers["database"] == "postgresql" or answers["use_redis"]):
        expected.add("docker-compose")
    assert set(updates) == expected
    for name, update in updates.items():
        assert update["directory"] == "/", name
        assert update["schedule"]["interval"] in ("daily", "weekly", "monthly"), name
    assert not (baked.project / "renovate.json").exists()


@pytest.mark.parametrize("combination", GITLAB, ids=combination_id)
def test_renovate_is_configured_for_gitlab(baked: Baked, combination: dict[str, Any]) -> None:
    config = json.loads((baked.project / "renovate.json").read_text(encoding="utf-8"))
    assert config["$schema"] == "https://docs.renovatebot.com/renovate-schema.json"
    assert "config:recommended" in config["extends"]
    assert config["lockFileMaintenance"]["enabled"] is True
    wants_hooks = expected_answers(combination)["use_precommit"]
    assert config.get("pre-commit", {}).get("enabled", False) is wants_hooks
    assert not (baked.project / ".github").exists()


# Files that GitHub, GitLab, Dependabot and Renovate read, against SchemaStore's schemas
# (shipped inside check-jsonschema: no network needed).
SCHEMAS = {
    ".github/workflows/ci.yml": "vendor.github-workflows",
    ".github/dependabot.yml": "vendor.dependabot",
    ".gitlab-ci.yml": "vendor.gitlab-ci",
    "renovate.json": "vendor.renovate",
}


def test_ci_and_bot_files_match_their_schemas(bake_shared: Any) -> None:
    found: dict[str, list[Path]] = {schema: [] for schema in SCHEMAS.values()}
    for answers in SUPPORTED:
        project = bake_shared(answers).project
        for name, schema in SCHEMAS.items():
            if (project / name).is_file():
                found[schema].append(project / name)
    for schema, paths in found.items():
        assert paths, f"no bake has a file for {schema}"
        command = [BIN / "check-jsonschema", "--builtin-schema", schema, *paths]
        result = run(command, cwd=TEMPLATE)
        assert result.returncode == 0, result.stdout


# The lock file.


@pytest.fixture
def default(bake_shared: Any) -> Baked:
    return bake_shared({})


@pytest.fixture
def project_copy(tmp_path: Path, default: Baked) -> Path:
    """A writable copy of the default project."""
    project = tmp_path / "project"
    shutil.copytree(default.project, project)
    return project


def _dry_run(project: Path, *args: str) -> str:
    # PYTHON given: the Makefile's search for an interpreter is slow where pyenv shims are.
    result = run(["make", "--no-print-directory", "-n", "PYTHON=python3", *args], cwd=project)
    assert result.returncode == 0, result.stdout
    return result.stdout


def test_install_targets_follow_the_lock_when_uv_has_one(project_copy: Path) -> None:
    # UV=uv on the command line stands for an installed uv; nothing runs in a dry run.
    assert "uv pip install" in _dry_run(project_copy, "UV=uv", "install-dev")
    assert "sync" not in _dry_run(project_copy, "UV=uv", "install-dev")
    (project_copy / "uv.lock").write_text("", encoding="utf-8")
    assert "uv sync --quiet --locked --extra dev" in _dry_run(project_copy, "UV=uv", "install-dev")
    assert "uv sync --quiet --locked --inexact" in _dry_run(project_copy, "UV=uv", "install")
    # Without uv, pip installs from pyproject.toml as before.
    without_uv = _dry_run(project_copy, "UV=", "install-dev")
    assert "-m pip install --quiet -e '.[dev]'" in without_uv
    assert "uv" not in without_uv.replace(".venv", "")


def test_make_lock_needs_uv(project_copy: Path) -> None:
    result = run(["make", "--no-print-directory", "UV=", "lock"], cwd=project_copy)
    assert result.returncode != 0
    assert "make lock needs uv" in result.stdout
    assert not (project_copy / "uv.lock").exists()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_until_live(port: int, deadline: float) -> None:
    while time.monotonic() < deadline:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
        try:
            connection.request("GET", "/livez")
            if connection.getresponse().status == 200:
                return
        except OSError:
            time.sleep(0.2)
        finally:
            connection.close()
    pytest.fail(f"nothing answered on port {port}")


@pytest.fixture
def clean_env() -> dict[str, str]:
    """This process's environment without its virtual environment, pytest's variables and
    settings that would point the project elsewhere."""
    dropped = {"VIRTUAL_ENV", "PYTHONPATH", "DATABASE_URL", "REDIS_URL", "HOST", "PORT"}
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in dropped and not key.startswith(("PYTEST_", "MAKE"))
    }
    env["PATH"] = os.pathsep.join(p for p in env["PATH"].split(os.pathsep) if Path(p) != BIN)
    return env


@pytest.mark.slow
def test_lock_installs_offline_and_make_dev_reloads(
    project_copy: Path, default: Baked, clean_env: dict[str, str]
) -> None:
    if shutil.which("uv", path=clean_env["PATH"]) is None:
        pytest.skip("uv is not installed")
    env = clean_env

    def make(*args: str, **extra: str) -> subprocess.CompletedProcess[str]:
        return run(["make", "--no-print-directory", *args], project_copy, {**env, **extra}, 600)

    locked = make("lock")
    assert locked.returncode == 0, locked.stdout
    first = make("install-dev")
    assert first.returncode == 0, first.stdout
    assert "uv sync" in first.stdout
    # Once uv's cache holds the locked versions, a new environment needs no network.
    shutil.rmtree(project_copy / ".venv")
    offline = make("install-dev", UV_OFFLINE="1")
    assert offline.returncode == 0, offline.stdout

    # make dev serves with console logs and restarts when a module changes.
    port = _free_port()
    log = project_copy / "dev.log"
    with log.open("w", encoding="utf-8") as output:
        server = subprocess.Popen(
            ["make", "--no-print-directory", "dev"],
            cwd=project_copy,
            env={**env, "PORT": str(port), "UV_OFFLINE": "1"},
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        _wait_until_live(port, time.monotonic() + 120)
        module = project_copy / "src" / default.package / "health.py"
        module.write_text(module.read_text(encoding="utf-8") + "\n", encoding="utf-8")
        deadline = time.monotonic() + 60
        while log.read_text(encoding="utf-8").count("serving on") < 2:
            assert time.monotonic() < deadline, log.read_text(encoding="utf-8")
            time.sleep(0.2)
        _wait_until_live(port, time.monotonic() + 60)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()
    text = log.read_text(encoding="utf-8")
    assert re.search(r"^\S+ \S+ INFO +\S+: serving on http://", text, re.MULTILINE), text
    assert "change detected" in text

    # A lock older than a change to pyproject.toml stops the install instead of ignoring it.
    pyproject = project_copy / "pyproject.toml"
    text = pyproject.read_text(encoding="utf-8")
    pyproject.write_text(text.replace('    "orjson>=', '    "six>=1.16",\n    "orjson>=', 1))
    stale = make("install-dev")
    assert stale.returncode != 0, stale.stdout
    assert "needs to be updated" in stale.stdout
