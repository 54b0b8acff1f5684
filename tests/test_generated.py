"""The generated project's own checks pass: `make lint` and `make test` in a fresh bake (slow).

Each bake (one per combination and xdist worker) makes its own virtual environment; uv's
shared cache keeps that quick. PostgreSQL bakes test against TEST_DATABASE_URL: skipped when
it is unreachable, failed if CI=true.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from baking import BIN, bake, combination_id

pytestmark = pytest.mark.slow

TIMEOUT = 15 * 60
DEFAULT_DATABASE_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
COMBINATIONS = [{}, {"database": "postgresql"}]


def database_url() -> str:
    return os.environ.get("TEST_DATABASE_URL", DEFAULT_DATABASE_URL)


def require_postgres(url: str) -> None:
    """Skip when PostgreSQL does not answer on its TCP port; under CI=true, fail instead."""
    parts = urlsplit(url)
    address = (parts.hostname or "127.0.0.1", parts.port or 5432)
    try:
        socket.create_connection(address, timeout=3).close()
    except OSError as error:
        reason = f"PostgreSQL is not reachable at {address[0]}:{address[1]} ({error})"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{reason}; CI=true, so the PostgreSQL tests must run")
        pytest.skip(f"{reason}; start it or set TEST_DATABASE_URL")


def project_environment(answers: dict[str, Any]) -> dict[str, str]:
    """This process's environment minus what belongs to it (its venv, make, pytest)."""
    dropped = {"VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME", "DATABASE_URL", "TEST_DATABASE_URL"}
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in dropped and not key.startswith(("PYTEST_", "MAKE", "MFLAGS"))
    }
    env["PATH"] = os.pathsep.join(
        entry for entry in env.get("PATH", "").split(os.pathsep) if Path(entry) != BIN
    )
    if answers.get("database") == "postgresql":
        env["DATABASE_URL"] = env["TEST_DATABASE_URL"] = database_url()
    return env


def make(target: str, project: Path, env: dict[str, str]) -> None:
    """Run `make <target>` in the project; on failure show the tail of its output."""
    process = subprocess.Popen(
        ["make", target],
        cwd=project,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # so a timeout can stop make and everything it started
    )
    try:
        output, _ = process.communicate(timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        output, _ = process.communicate()
        pytest.fail(f"make {target} timed out after {TIMEOUT} s:\n{_tail(output)}")
    if process.returncode != 0:
        pytest.fail(f"make {target} exited with {process.returncode}:\n{_tail(output)}")


def _tail(output: str, lines: int = 80) -> str:
    return "\n".join(output.splitlines()[-lines:])


@pytest.fixture(scope="module", params=COMBINATIONS, ids=combination_id)
def generated(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, dict[str, str], dict[str, Any]]:
    answers = request.param
    project = bake(tmp_path_factory.mktemp("generated"), answers).project
    return project, project_environment(answers), answers


def test_make_lint(generated: tuple[Path, dict[str, str], dict[str, Any]]) -> None:
    project, env, _ = generated
    make("lint", project, env)


def test_make_test(generated: tuple[Path, dict[str, str], dict[str, Any]]) -> None:
    project, env, answers = generated
    if answers.get("database") == "postgresql":
        require_postgres(env["TEST_DATABASE_URL"])
    make("test", project, env)
