"""The hooks as cookiecutter runs them: rendered, lint-clean; post-gen only deletes, offline.

The post-gen hook is rendered with the context of a real bake and run again by hand, under an
audit hook that stops the process at the first network call, subprocess or write.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path
from typing import Any

import pytest
from cookiecutter.environment import StrictEnvironment

from baking import (
    MANIFEST_NAME,
    PROJECT_TEMPLATE,
    RUFF,
    TEMPLATE,
    Baked,
    combination_id,
    run,
    snapshot,
)

COMBINATIONS = [
    {},
    {"use_metrics": False, "use_docker": False, "use_precommit": False, "ci": "none"},
]

# Runs a script with every side effect other than reading and deleting files forbidden.
WATCHED_RUN = r"""
import os, runpy, sys

FORBIDDEN = (
    "socket.", "subprocess.", "os.system", "os.exec", "os.posix_spawn", "os.spawn", "os.fork",
    "os.rename", "os.mkdir", "os.symlink", "os.link", "os.chmod", "os.chown", "os.utime",
    "os.truncate", "shutil.copy", "shutil.move", "urllib.", "http.", "webbrowser.",
)
WRITE = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND


def watch(event, args):
    writes = event == "open" and isinstance(args[2], int) and args[2] & WRITE
    if writes or event.startswith(FORBIDDEN):
        sys.stderr.write(f"FORBIDDEN {event} {args!r}\n")
        sys.stderr.flush()
        os._exit(97)


script = sys.argv[1]
sys.argv = [script]
sys.addaudithook(watch)
runpy.run_path(script, run_name="__main__")
"""


def render(source: Path, context: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> str:
    """Render a template file as cookiecutter renders its hooks."""
    monkeypatch.syspath_prepend(str(TEMPLATE))  # for the local_extensions filter module
    environment = StrictEnvironment(context={"cookiecutter": context}, keep_trailing_newline=True)
    template = environment.from_string(source.read_text(encoding="utf-8"))
    return template.render(cookiecutter=context)


@pytest.fixture(params=COMBINATIONS, ids=combination_id)
def combination(request: pytest.FixtureRequest) -> dict[str, Any]:
    return request.param


@pytest.fixture
def post_gen(
    baked: Baked, tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Path:
    """The post-gen hook rendered with the bake's context, in a folder of its own."""
    hook = tmp_path_factory.mktemp("hook") / "post_gen_project.py"
    source = render(TEMPLATE / "hooks" / "post_gen_project.py", baked.context, monkeypatch)
    hook.write_text(source, encoding="utf-8")
    return hook


def run_watched(script: Path, cwd: Path) -> None:
    result = run([sys.executable, "-B", "-I", "-c", WATCHED_RUN, script], cwd=cwd)
    assert result.returncode == 0, result.stdout


def test_post_gen_only_deletes_and_matches_the_bake(
    combination: dict[str, Any], baked: Baked, post_gen: Path, bake_fresh: Any
) -> None:
    unhooked = bake_fresh(combination, accept_hooks=False).project
    before = snapshot(unhooked)
    assert MANIFEST_NAME in before
    run_watched(post_gen, cwd=unhooked)
    after = snapshot(unhooked)
    changed = {path for path in after if after[path] != before.get(path)}
    assert not changed, f"post-gen created or changed: {sorted(changed)}"
    assert after == snapshot(baked.project)


def test_post_gen_twice_gives_the_same_tree(
    baked: Baked, post_gen: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = tmp_path / baked.project.name
    shutil.copytree(baked.project, project)
    manifest = render(PROJECT_TEMPLATE / MANIFEST_NAME, baked.context, monkeypatch)
    (project / MANIFEST_NAME).write_text(manifest, encoding="utf-8")
    run_watched(post_gen, cwd=project)
    assert snapshot(project) == snapshot(baked.project)
    # With the manifest already gone it has nothing to do.
    run_watched(post_gen, cwd=project)
    assert snapshot(project) == snapshot(baked.project)


def test_bake_makes_no_git_repository(baked: Baked) -> None:
    found = [path for path in baked.project.rglob(".git") if path.is_dir()]
    assert not found, f"the bake made a git repository: {found}"


@pytest.mark.parametrize("name", ["pre_gen_project.py", "post_gen_project.py"])
def test_rendered_hook_is_lint_clean(
    name: str, baked: Baked, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    hook = tmp_path / name
    hook.write_text(render(TEMPLATE / "hooks" / name, baked.context, monkeypatch), "utf-8")
    config = ["--config", TEMPLATE / "pyproject.toml", "--no-cache"]
    check = run([RUFF, "check", *config, hook], cwd=tmp_path)
    assert check.returncode == 0, check.stdout
    fmt = run([RUFF, "format", "--check", "--diff", *config, hook], cwd=tmp_path)
    assert fmt.returncode == 0, fmt.stdout
