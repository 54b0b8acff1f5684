"""Projects follow the template: `cruft create`, `update`, `diff` and `cookiecutter --replay`.

cruft renders the template itself (no `cookiecutter()` call): the context has no `_repo_dir`,
`_output_dir` or `_checkout`, the hooks run as usual in the new project, and `.cruft.json`
records the template, its commit and the answers. The round trip runs the cruft command line
against a git copy of this template, as a user's project would.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
from cookiecutter.main import cookiecutter

from baking import (
    BIN,
    MANIFEST_NAME,
    PROJECT_TEMPLATE,
    TEMPLATE,
    bake,
    files,
    run,
    snapshot,
    write_config,
)

CRUFT = BIN / "cruft"
# Context keys that only `cookiecutter()` sets: a template or hook that reads them breaks cruft.
COOKIECUTTER_ONLY = ("_repo_dir", "_output_dir", "_checkout")
# What a clone of the template would not hold.
NOT_IN_GIT = shutil.ignore_patterns(
    ".git", ".venv", "build", "__pycache__", ".pytest_cache", ".ruff_cache", ".mypy_cache"
)
ANSWERS = {"license": "Apache-2.0"}
USER_LINES = ["## Our runbook", "Page the on-call engineer first."]
NEW_VERSION = "99.1.0"


def template_version() -> str:
    return json.loads((TEMPLATE / "cookiecutter.json").read_text(encoding="utf-8"))[
        "_template_version"
    ]


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """git with a fixed identity and no user or system config; cookiecutter with a private one."""
    home = tmp_path / "home"
    home.mkdir()
    return {
        **os.environ,
        "HOME": str(home),
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_AUTHOR_NAME": "Template Tests",
        "GIT_AUTHOR_EMAIL": "tests@example.com",
        "GIT_COMMITTER_NAME": "Template Tests",
        "GIT_COMMITTER_EMAIL": "tests@example.com",
        "COOKIECUTTER_CONFIG": str(write_config(tmp_path)),
    }


def sh(args: list[str | Path], cwd: Path, env: dict[str, str]) -> str:
    result = run(args, cwd=cwd, env=env)
    assert result.returncode == 0, f"{' '.join(map(str, args))}:\n{result.stdout}"
    return result.stdout


def commit(repo: Path, message: str, env: dict[str, str]) -> str:
    sh(["git", "add", "--all"], repo, env)
    sh(["git", "commit", "--quiet", "--message", message], repo, env)
    return sh(["git", "rev-parse", "HEAD"], repo, env).strip()


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, f"{old!r} in {path}"
    path.write_text(text.replace(old, new), encoding="utf-8")


def diff_summary(diff: str) -> tuple[list[str], list[str]]:
    """The files a unified diff touches and its changed lines (without +/-), blank ones left out."""
    touched = re.findall(r"^diff --git \S+?/(\S+) ", diff, flags=re.MULTILINE)
    changed = [
        line[1:].strip()
        for line in diff.splitlines()
        if line[:1] in "+-" and not line.startswith(("+++", "---")) and line[1:].strip()
    ]
    return touched, changed


def test_no_template_file_reads_what_only_cookiecutter_sets() -> None:
    sources = [*files(TEMPLATE / "hooks"), *files(PROJECT_TEMPLATE)]
    hits = [
        f"{path.relative_to(TEMPLATE)}: {key}"
        for path in sources
        for key in COOKIECUTTER_ONLY
        if f"cookiecutter.{key}" in path.read_text(encoding="utf-8", errors="replace")
    ]
    assert not hits, f"cruft does not set these context keys: {hits}"


def test_replay_reproduces_the_same_tree(tmp_path: Path) -> None:
    answers: dict[str, Any] = {
        "project_name": "Replayed Sérvice",
        "database": "postgresql",
        "use_redis": True,
        "ci": "gitlab",
        "license": "BSD-3-Clause",
    }
    first = bake(tmp_path, answers)
    assert first.context["_template_version"] == template_version()
    replayed = cookiecutter(
        str(TEMPLATE),
        replay=True,
        output_dir=str(tmp_path / "replayed"),
        config_file=str(write_config(tmp_path)),
    )
    assert snapshot(Path(replayed)) == snapshot(first.project)


@pytest.mark.slow
def test_cruft_update_brings_template_changes_and_keeps_the_users(
    tmp_path: Path, env: dict[str, str]
) -> None:
    # The template, as a user's fork of it would be: a git repository.
    template = tmp_path / "template"
    shutil.copytree(TEMPLATE, template, ignore=NOT_IN_GIT)
    sh(["git", "init", "--quiet", "--initial-branch", "main"], template, env)
    first = commit(template, "the template", env)

    work = tmp_path / "work"
    context = json.dumps(ANSWERS)
    sh([CRUFT, "create", "--no-input", "--extra-context", context, "--output-dir", work, template],
       tmp_path, env)  # fmt: skip
    (project,) = work.iterdir()
    state = json.loads((project / ".cruft.json").read_text(encoding="utf-8"))
    assert state["template"] == str(template)
    assert state["commit"] == first
    assert state["context"]["cookiecutter"]["_template_version"] == template_version()
    assert state["context"]["cookiecutter"]["license"] == "Apache-2.0"
    # Under cruft the hooks ran just as under cookiecutter: the same tree, plus .cruft.json.
    plain = bake(tmp_path / "plain", ANSWERS).project
    assert {**snapshot(plain), ".cruft.json": "-"} == {**snapshot(project), ".cruft.json": "-"}
    assert not (project / MANIFEST_NAME).exists()

    # The user's repository, with an edit of their own.
    sh(["git", "init", "--quiet", "--initial-branch", "main"], project, env)
    commit(project, "generated", env)
    with (project / "README.md").open("a", encoding="utf-8") as readme:
        readme.write("\n" + "\n\n".join(USER_LINES) + "\n")
    commit(project, "our runbook", env)

    # The template's next version: a changed file, a new line in a file the user edited too.
    edit(template / "cookiecutter.json", f'"_template_version": "{template_version()}"',
         f'"_template_version": "{NEW_VERSION}"')  # fmt: skip
    with (template / PROJECT_TEMPLATE.name / ".gitignore").open("a", encoding="utf-8") as ignore:
        ignore.write(".idea/\n")
    readme = template / PROJECT_TEMPLATE.name / "README.md"
    title = readme.read_text(encoding="utf-8").splitlines()[0]
    edit(readme, title + "\n", title + "\n\nMaintained by {{ cookiecutter.author_name }}.\n")
    second = commit(template, "the next version", env)

    sh([CRUFT, "update", "--skip-apply-ask", "--allow-untracked-files"], project, env)
    assert not list(project.rglob("*.rej")), "the update did not apply cleanly"
    assert ".idea/" in (project / ".gitignore").read_text(encoding="utf-8").splitlines()
    text = (project / "README.md").read_text(encoding="utf-8")
    assert "Maintained by Your Name." in text
    assert all(line in text for line in USER_LINES), "the update lost the user's edit"
    assert "<<<<<<<" not in text
    pyproject = (project / "pyproject.toml").read_text(encoding="utf-8")
    assert f"template {NEW_VERSION}" in pyproject.splitlines()[0]
    state = json.loads((project / ".cruft.json").read_text(encoding="utf-8"))
    assert state["commit"] == second
    assert state["context"]["cookiecutter"]["_template_version"] == NEW_VERSION

    # The project now differs from the template by the user's edit alone.
    touched, changed = diff_summary(sh([CRUFT, "diff"], project, env))
    assert touched == ["README.md"]
    assert changed == USER_LINES
    sh([CRUFT, "check"], project, env)

    # A changed answer goes through the hooks as well: the component's files leave.
    commit(project, "template update", env)
    variables = json.dumps({"use_metrics": False})
    sh([CRUFT, "update", "--skip-apply-ask", "--variables-to-update", variables], project, env)
    package = state["context"]["cookiecutter"]["package_name"]
    assert not (project / "src" / package / "metrics.py").exists()
    assert "prometheus" not in (project / "pyproject.toml").read_text(encoding="utf-8")
    assert all(line in (project / "README.md").read_text(encoding="utf-8") for line in USER_LINES)
