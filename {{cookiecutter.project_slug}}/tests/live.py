"""A live server process for the tests that need a real socket: start, probe, load, stop."""

import http.client
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Self

import pytest
from pydantic import SecretStr

from {{ cookiecutter.package_name }}.settings import Settings

START_TIMEOUT = 30.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def get(url: str) -> tuple[int, str]:
    with urllib.request.urlopen(url, timeout=5) as response:
        return response.status, response.read().decode()


class Server:
    """A running `python -m <package> serve` and the file its log goes to."""

    def __init__(self, environment: dict[str, str], cwd: Path) -> None:
        self.base = f"http://127.0.0.1:{environment['PORT']}"
        self.log = cwd / "server.log"
        with self.log.open("w") as log:
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "{{ cookiecutter.package_name }}",
                    "serve",
                ],
                env=environment,
                cwd=cwd,
                stdout=subprocess.DEVNULL,
                stderr=log,
            )

    def logged(self) -> str:
        return self.log.read_text(encoding="utf-8")

    def wait_until(self, ready: Callable[[], bool], what: str) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while not ready():
            if self.process.poll() is not None:
                pytest.fail(
                    f"the server exited with {self.process.returncode}:\n{self.logged()}"
                )
            if time.monotonic() > deadline:
                pytest.fail(f"{what} did not happen in time:\n{self.logged()}")
            time.sleep(0.1)

    def answers(self) -> bool:
        try:
            return get(f"{self.base}/livez")[0] == 200
        except OSError:
            return False

    def stop(self) -> int:
        """Send SIGTERM and return the exit code."""
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=20)


@contextmanager
def server(environment: dict[str, str], cwd: Path) -> Iterator[Server]:
    """Start the service and wait until every worker logged its start and /livez answers."""
    running = Server(environment, cwd)
    workers = int(environment.get("WORKERS", "1"))
    try:
        running.wait_until(
            lambda: running.logged().count('"message":"serving on') == workers,
            "the start",
        )
        running.wait_until(running.answers, "an answer from /livez")
        yield running
    finally:
        if running.process.poll() is None:
            running.process.kill()
            running.process.wait()


def as_environment(settings: Settings) -> dict[str, str]:
    """The environment variables that give a process the settings `settings` was given."""
    environment = {}
    for name in settings.model_fields_set:
        value = getattr(settings, name)
        if isinstance(value, SecretStr):
            value = value.get_secret_value()
        elif isinstance(value, list):
            value = ",".join(value)
        environment[name.upper()] = str(value)
    return environment


def environment_for(folder: Path, settings: Settings, **more: str) -> dict[str, str]:
    """The environment of a server on a free loopback port, with the tests' settings."""
    return {
        **as_environment(settings),
        "PATH": os.environ.get("PATH", ""),
        "HOST": "127.0.0.1",
        "PORT": str(free_port()),
        "LOG_FORMAT": "json",
        "SHUTDOWN_TIMEOUT": "5",
        "TMPDIR": str(folder),
        **more,
    }


class Load:
    """Threads sending requests on new connections until stopped, counting the outcomes.

    A request is accepted once the server answers anything; refused or reset connections
    were never accepted. Failures are accepted requests answered 5xx or cut short.
    """

    def __init__(self, port: int, threads: int = 4) -> None:
        self.port = port
        self.served = 0
        self.not_accepted = 0
        self.failures: list[str] = []
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._threads = [threading.Thread(target=self._run) for _ in range(threads)]

    def __enter__(self) -> Self:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join()

    def _run(self) -> None:
        while not self._stop.is_set():
            connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
            try:
                connection.request(
                    "GET", "/api/v1/items", headers={"Connection": "close"}
                )
            except OSError:
                connection.close()
                self._count(not_accepted=1)
                continue
            try:
                response = connection.getresponse()
                response.read()
            except ConnectionResetError:  # http.client.RemoteDisconnected is one too
                self._count(not_accepted=1)
            except (OSError, http.client.HTTPException) as exc:
                self._count(failure=f"cut short: {exc!r}")
            else:
                if response.status >= 500:
                    self._count(failure=f"answered {response.status}")
                else:
                    self._count(served=1)
            finally:
                connection.close()

    def _count(self, served: int = 0, not_accepted: int = 0, failure: str = "") -> None:
        with self._lock:
            self.served += served
            self.not_accepted += not_accepted
            if failure:
                self.failures.append(failure)


def read_to_end(connection: socket.socket) -> bytes:
    """Everything a server sends on a connection until it closes it."""
    return b"".join(iter(lambda: connection.recv(65536), b""))
