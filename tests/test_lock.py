"""A project's lock file: the install targets follow `uv.lock` when uv has one (offline once
uv's cache holds the packages), `make lock` needs uv, a stale lock stops the install; and `make
dev` restarts on a change (slow).
"""

from __future__ import annotations

import http.client
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

from baking import BIN, Baked, run


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
