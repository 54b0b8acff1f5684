"""Running a baked project's own tools: the environment it needs (services, interpreter) and make.

PostgreSQL and Redis are reached at TEST_DATABASE_URL / TEST_REDIS_URL; a test that cannot
reach one is skipped, or failed when CI=true. A bake for a newer Python runs with that
interpreter from the PATH or pyenv.
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

from baking import BIN, uses_redis

TIMEOUT = 15 * 60
DEFAULT_DATABASE_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"


def database_url() -> str:
    return os.environ.get("TEST_DATABASE_URL", DEFAULT_DATABASE_URL)


def redis_url() -> str:
    return os.environ.get("TEST_REDIS_URL", DEFAULT_REDIS_URL)


def unavailable(reason: str) -> None:
    """Skip; under CI=true, fail instead, so that CI never passes by skipping."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason}; CI=true, so these tests must run")
    pytest.skip(reason)


def require(service: str, url: str, default_port: int) -> None:
    """Stop the test unless `service` answers on its TCP port."""
    parts = urlsplit(url)
    address = (parts.hostname or "127.0.0.1", parts.port or default_port)
    try:
        socket.create_connection(address, timeout=3).close()
    except OSError as error:
        unavailable(f"{service} is not reachable at {address[0]}:{address[1]} ({error})")


def interpreter(version: str) -> str | None:
    """A python{version} for the bake: on the PATH, else from pyenv; None when there is none."""
    name = f"python{version}"
    on_path = [Path(entry) / name for entry in os.environ["PATH"].split(os.pathsep)]
    pyenv = sorted((Path.home() / ".pyenv" / "versions").glob(f"{version}.*/bin/{name}"))
    return next((str(path) for path in [*on_path, *pyenv] if _runs(path)), None)


def _runs(path: Path) -> bool:
    """True when `path` is a working interpreter (a pyenv shim may exist and still fail)."""
    if not os.access(path, os.X_OK):
        return False
    return subprocess.run([path, "-c", "pass"], capture_output=True, check=False).returncode == 0


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
    if uses_redis(answers):
        env["REDIS_URL"] = env["TEST_REDIS_URL"] = redis_url()
    version = answers.get("python_version", "3.11")
    if version != "3.11":
        path = interpreter(version)
        if path is None:
            unavailable(f"no python{version} on this machine (PATH or ~/.pyenv)")
        env["PYTHON"] = str(path)
    return env


def make(
    target: str, project: Path, env: dict[str, str], *args: str, timeout: float = TIMEOUT
) -> str:
    """Run `make <target> [args]` in the project; return its output, failing on error or timeout."""
    process = subprocess.Popen(
        ["make", target, *args],
        cwd=project,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # so a timeout can stop make and everything it started
    )
    try:
        output, _ = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        output, _ = process.communicate()
        pytest.fail(f"make {target} timed out after {timeout} s:\n{_tail(output)}")
    if process.returncode != 0:
        pytest.fail(f"make {target} exited with {process.returncode}:\n{_tail(output)}")
    return output


def _tail(output: str, lines: int = 80) -> str:
    return "\n".join(output.splitlines()[-lines:])
