"""The option matrix: every supported combination bakes into a clean, consistent project.

SUPPORTED, in baking.py, lists every option alone and the pairs that interact; conftest.py
parametrizes `combination` with it.
"""

from __future__ import annotations

import ast
import os
import re
import sys
import tomllib
from collections.abc import Callable
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
    supported,
)

GITHUB = supported(ci="github")

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


@pytest.mark.parametrize("command", [["check"], ["format", "--check"]], ids=["check", "format"])
def test_ruff_agrees_without_the_projects_configuration(baked: Baked, command: list[str]) -> None:
    # A tool that runs ruff with its defaults (line length 88, default rules) finds the same.
    result = run([RUFF, *command, "--isolated", "--no-cache", "."], cwd=baked.project)
    assert result.returncode == 0, result.stdout


# A module a reader can hold in mind: past this, it does more than one thing (issue 14).
MODULE_LINES = 250


def test_no_module_is_over_the_length_limit(baked: Baked) -> None:
    lengths = {
        path.relative_to(baked.project).as_posix(): len(path.read_text("utf-8").splitlines())
        for path in files(baked.project)
        if path.suffix == ".py"
    }
    longer = {name: count for name, count in lengths.items() if count > MODULE_LINES}
    assert lengths
    assert not longer, f"modules over {MODULE_LINES} lines: {longer}"


def _imported_modules(project: Path) -> set[str]:
    """Every module named by an import in the project's Python files, as an absolute name."""
    imported: set[str] = set()
    for path in files(project):
        if path.suffix != ".py":
            continue
        parts = list(path.relative_to(project).with_suffix("").parts)
        if parts[0] == "src":
            parts = parts[1:]
        package = parts[:-1]  # a module's package, or an __init__'s own
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                imported.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom):
                base = package[: len(package) - node.level + 1] if node.level else []
                module = ".".join([*base, *(node.module or "").split(".")]).strip(".")
                imported.add(module)
                imported.update(f"{module}.{alias.name}" for alias in node.names)
    return imported


def test_every_source_module_is_imported(baked: Baked) -> None:
    """A module nothing imports is a component's leftover (the hook should have removed it)."""
    source = baked.project / "src"
    imported = _imported_modules(baked.project)
    modules = {
        ".".join(path.relative_to(source).with_suffix("").parts)
        for path in files(source)
        if path.suffix == ".py"
        and path.stem not in {"__init__", "__main__"}
        and "migrations" not in path.relative_to(source).parts
    }
    assert modules
    assert not modules - imported, f"modules nothing imports: {sorted(modules - imported)}"


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


def test_manifest_keys_are_questions_or_what_they_imply() -> None:
    asked = questions()
    # Private computed variables of cookiecutter.json render as "yes" or "".
    computed = {key: ["yes", ""] for key in expected_answers({}) if key.startswith("__")}
    for component in components():
        key = component["key"]
        choices = {**asked, **computed}
        assert key in choices, f"{component['name']}: {key} is not a question"
        allowed = choices[key] if isinstance(choices[key], list) else [True, False]
        assert set(component["keep_when"]) <= set(allowed), component


def test_the_task_queue_brings_redis_whatever_use_redis_says(
    bake_fresh: Callable[..., Baked],
) -> None:
    baked = bake_fresh({"task_queue": "arq"})
    assert baked.context["use_redis"] is False
    assert baked.context["__redis"] == "yes"
    package = baked.project / "src" / baked.package
    assert (package / "cache.py").is_file()
    assert (package / "jobqueue.py").is_file()
    pyproject = (baked.project / "pyproject.toml").read_text(encoding="utf-8")
    assert '"redis>=5.2,<6"' in pyproject
    assert "REDIS_URL" in (baked.project / ".env.example").read_text(encoding="utf-8")
