"""The option matrix: every supported combination bakes into a clean, consistent project.

SUPPORTED lists every option alone and the pairs that interact (the refusals are in
test_validation.py).
"""

from __future__ import annotations

import os
import re
import sys
import tomllib
from datetime import UTC, datetime
from fnmatch import fnmatch
from pathlib import Path
from typing import Any

import pytest
import yaml

from baking import (
    MANIFEST_NAME,
    RUFF,
    Baked,
    combination_id,
    component_paths,
    components,
    copy_without_render,
    expected_answers,
    files,
    questions,
    run,
)

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
    {"task_queue": "arq", "use_redis": True},
    {"task_queue": "arq", "use_redis": True, "database": "none"},
    {"task_queue": "arq", "use_redis": True, "use_kubernetes": True},
    {"use_kubernetes": True, "use_sentry": True, "use_tracing": True},
    {"task_queue": "arq", "use_redis": True, "use_docker": False},
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
]
GITHUB = [answers for answers in SUPPORTED if expected_answers(answers)["ci"] == "github"]

# Jinja that survived rendering. `${{ }}` (GitHub Actions) and `${#var}` (shell) are expected.
LEFTOVERS = {
    "{{ cookiecutter": r"\{\{-?\s*cookiecutter",
    "{%": r"\{%",
    "{#": r"(?<!\$)\{#",
    "cookiecutter.<key>": r"cookiecutter\.[A-Za-z_]",
}

OSI_TEXT = {
    "MIT": "Permission is hereby granted, free of charge",
    "Apache-2.0": "Apache License",
    "BSD-3-Clause": "Redistribution and use in source and binary forms",
}
SPDX = {"Proprietary": "LicenseRef-Proprietary"}


@pytest.fixture(params=SUPPORTED, ids=combination_id)
def combination(request: pytest.FixtureRequest) -> dict[str, Any]:
    return request.param


@pytest.fixture
def answers(combination: dict[str, Any]) -> dict[str, Any]:
    return expected_answers(combination)


def _text(path: Path) -> str | None:
    data = path.read_bytes()
    return None if b"\0" in data else data.decode("utf-8", errors="replace")


def test_no_template_syntax_is_left(baked: Baked) -> None:
    patterns = {name: re.compile(pattern) for name, pattern in LEFTOVERS.items()}
    verbatim = copy_without_render()
    hits = []
    for path in files(baked.project):
        rel = path.relative_to(baked.project).as_posix()
        hits += [f"{rel}: {name} in the path" for name, p in patterns.items() if p.search(rel)]
        if any(fnmatch(rel, glob) for glob in verbatim) or (text := _text(path)) is None:
            continue
        for number, line in enumerate(text.splitlines(), 1):
            hits += [f"{rel}:{number}: {line.strip()}" for p in patterns.values() if p.search(line)]
    assert not hits, "unrendered template syntax:\n" + "\n".join(hits)


def test_bake_used_the_answers(baked: Baked, combination: dict[str, Any]) -> None:
    assert {key: baked.context[key] for key in combination} == combination


def test_component_manifest_is_removed(baked: Baked) -> None:
    assert baked.project.is_dir()
    assert not (baked.project / MANIFEST_NAME).exists()


def test_files_of_disabled_components_are_removed(baked: Baked, answers: dict[str, Any]) -> None:
    left = [
        f"{component['name']}: {path}"
        for component in components()
        if answers[component["key"]] not in component["keep_when"]
        for path in component_paths(component, baked.package)
        if (baked.project / path).exists()
    ]
    assert not left, f"files of disabled components were kept: {left}"


def test_files_of_enabled_components_are_kept(baked: Baked, answers: dict[str, Any]) -> None:
    removed = [
        path
        for component in components()
        if answers[component["key"]] not in component["keep_when"]
        for path in component_paths(component, baked.package)
    ]
    missing = [
        f"{component['name']}: {path}"
        for component in components()
        if answers[component["key"]] in component["keep_when"]
        for path in component_paths(component, baked.package)
        # A path inside the folder of a removed component goes with it.
        if not any(Path(path).is_relative_to(folder) for folder in removed)
        and not (baked.project / path).exists()
    ]
    assert not missing, f"files of enabled components are missing: {missing}"


def test_ruff_check_is_clean(baked: Baked) -> None:
    result = run([RUFF, "check", "--no-cache", "."], cwd=baked.project)
    assert result.returncode == 0, result.stdout


def test_ruff_format_is_clean(baked: Baked) -> None:
    result = run([RUFF, "format", "--check", "--no-cache", "."], cwd=baked.project)
    assert result.returncode == 0, result.stdout


def test_python_compiles(baked: Baked, tmp_path: Path) -> None:
    # The pycache prefix keeps the shared bake free of __pycache__ folders.
    env = {**os.environ, "PYTHONPYCACHEPREFIX": str(tmp_path)}
    result = run([sys.executable, "-m", "compileall", "-q", "src", "tests"], baked.project, env=env)
    assert result.returncode == 0, result.stdout


def test_pyproject_follows_python_version(baked: Baked, answers: dict[str, Any]) -> None:
    pyproject = tomllib.loads((baked.project / "pyproject.toml").read_text(encoding="utf-8"))
    version = answers["python_version"]
    assert pyproject["project"]["requires-python"] == f">={version}"
    assert pyproject["tool"]["ruff"]["target-version"] == "py" + version.replace(".", "")
    assert pyproject["tool"]["mypy"]["python_version"] == version


def test_yaml_files_parse(baked: Baked) -> None:
    for path in sorted(baked.project.rglob("*.y*ml")):
        with path.open(encoding="utf-8") as stream:
            list(yaml.safe_load_all(stream))


def test_license_file_matches_the_license(baked: Baked, answers: dict[str, Any]) -> None:
    text = (baked.project / "LICENSE").read_text(encoding="utf-8")
    chosen = answers["license"]
    for name, phrase in OSI_TEXT.items():
        assert (phrase in text) == (name == chosen), f"{name} text in a {chosen} LICENSE: {phrase}"
    assert "GNU" not in text
    assert answers["author_name"] in text
    years = {str(datetime.now(UTC).year), str(datetime.now().astimezone().year)}
    assert any(year in text for year in years), f"no copyright year {years} in LICENSE"


def test_pyproject_license_matches(baked: Baked, answers: dict[str, Any]) -> None:
    pyproject = tomllib.loads((baked.project / "pyproject.toml").read_text(encoding="utf-8"))
    license_ = answers["license"]
    assert pyproject["project"]["license"] == SPDX.get(license_, license_)
    assert pyproject["project"]["license-files"] == ["LICENSE"]


def _scalars(node: Any) -> list[str]:
    if isinstance(node, dict):
        return [s for key, value in node.items() for s in (*_scalars(key), *_scalars(value))]
    if isinstance(node, list):
        return [s for item in node for s in _scalars(item)]
    return [str(node)]


@pytest.mark.parametrize("combination", GITHUB, ids=combination_id)
def test_github_workflow_runs_lint_and_tests(baked: Baked, answers: dict[str, Any]) -> None:
    workflows = sorted((baked.project / ".github" / "workflows").glob("*.y*ml"))
    assert workflows, "ci=github but no workflow in .github/workflows"
    documents = [yaml.safe_load(path.read_text(encoding="utf-8")) for path in workflows]
    jobs = [job for document in documents for job in document["jobs"].values()]
    commands = "\n".join(step.get("run", "") for job in jobs for step in job.get("steps", []))
    assert "make lint" in commands
    assert "make test" in commands
    assert answers["python_version"] in _scalars(documents), "CI ignores python_version"
    services = [service for job in jobs for service in job.get("services", {}).values()]
    uses_postgres = any(
        str(service.get("image", "")).startswith("postgres") for service in services
    )
    assert uses_postgres == (answers["database"] == "postgresql")


def test_manifest_keys_are_questions() -> None:
    asked = questions()
    for component in components():
        key = component["key"]
        assert key in asked, f"{component['name']}: {key} is not a question"
        allowed = asked[key] if isinstance(asked[key], list) else [True, False]
        assert set(component["keep_when"]) <= set(allowed), component
