"""The real server process: it serves, shares its port between workers, and stops on SIGTERM."""
{% if cookiecutter.database == "postgresql" %}
import asyncio
{%- endif %}
import http.client
import signal
{%- if cookiecutter.database != "none" %}
import socket
{%- endif %}
{%- if cookiecutter.database == "sqlite" %}
import sqlite3
{%- endif %}
import threading
import time
{%- if cookiecutter.use_redis %}
import uuid
{%- endif %}
{%- if cookiecutter.database != "none" %}
from collections.abc import Iterator
from contextlib import contextmanager
{%- endif %}
from pathlib import Path
from typing import Self

import pytest
{%- if cookiecutter.database == "postgresql" %}
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine
{%- endif %}

from .live import environment_for, get, server


@pytest.fixture
def environment(
    tmp_path: Path,
{%- if cookiecutter.database != "none" %}
    database_url: str,
{%- endif %}
{%- if cookiecutter.use_redis %}
    redis_url: str,
{%- endif %}
) -> dict[str, str]:
    """A server on a free loopback port, pointing at the test services."""
    return environment_for(
        tmp_path,
{%- if cookiecutter.database != "none" %}
        DATABASE_URL=database_url,
{%- endif %}
{%- if cookiecutter.use_redis %}
        REDIS_URL=redis_url,
        CACHE_PREFIX=f"test-{uuid.uuid4().hex}:",
{%- endif %}
    )


def test_serves_and_exits_0_on_sigterm(environment: dict[str, str], tmp_path: Path) -> None:
    with server(environment, tmp_path) as running:
        assert get(f"{running.base}/readyz")[0] == 200
        assert running.stop() == 0, running.logged()
    assert '"message":"stopped"' in running.logged()
    assert "Traceback" not in running.logged()


def test_workers_share_one_port_and_stop_together(
    environment: dict[str, str], tmp_path: Path
) -> None:
    with server({**environment, "WORKERS": "2"}, tmp_path) as running:
        for _ in range(40):
            assert get(f"{running.base}/livez")[0] == 200
{%- if cookiecutter.use_metrics %}
        # Every worker's samples are summed, whichever worker answers the scrape.
        metrics = get(f"{running.base}/metrics")[1]
        livez = 'http_requests_total{method="GET",route="/livez",status="200"}'
        counted = [line for line in metrics.splitlines() if line.startswith(livez)]
        assert counted, metrics
        assert float(counted[0].rsplit(" ", 1)[1]) >= 40
{%- endif %}
        assert running.stop() == 0, running.logged()
    assert running.logged().count('"message":"stopped"') == 2


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
                connection.request("GET", "/api/v1/items", headers={"Connection": "close"})
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
{%- if cookiecutter.database == "sqlite" %}


@contextmanager
def writes_blocked(database_url: str) -> Iterator[None]:
    """Hold the write lock of the SQLite file: writes wait (busy timeout) until it is let go."""
    path = database_url.removeprefix("sqlite+aiosqlite:///")
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        yield
    finally:
        holder.execute("ROLLBACK")
        holder.close()
{%- elif cookiecutter.database == "postgresql" %}


@contextmanager
def writes_blocked(database_url: str) -> Iterator[None]:
    """Lock the items table from another connection: inserts wait until it is let go."""
    locked, release = threading.Event(), threading.Event()

    async def hold() -> None:
        engine = create_async_engine(database_url)
        try:
            async with engine.connect() as connection, connection.begin():
                await connection.execute(text("LOCK TABLE items IN EXCLUSIVE MODE"))
                locked.set()
                await asyncio.to_thread(release.wait, 30)
        finally:
            await engine.dispose()

    holder = threading.Thread(target=asyncio.run, args=(hold(),))
    holder.start()
    try:
        assert locked.wait(10), "could not lock the items table"
        yield
    finally:
        release.set()
        holder.join()
{%- endif %}
{%- if cookiecutter.database != "none" %}


def read_response(connection: socket.socket) -> bytes:
    """Read a whole `Connection: close` answer."""
    return b"".join(iter(lambda: connection.recv(65536), b""))


def test_sigterm_lets_the_request_in_flight_finish(
    environment: dict[str, str], tmp_path: Path
) -> None:
    port = int(environment["PORT"])
    body = b'{"name": "in flight"}'
    request = (
        b"POST /api/v1/items HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n"
        b"Content-Length: " + str(len(body)).encode() + b"\r\nConnection: close\r\n\r\n" + body
    )
    with server(environment, tmp_path) as running:
        with writes_blocked(environment["DATABASE_URL"]):
            in_flight = socket.create_connection(("127.0.0.1", port), timeout=20)
            in_flight.sendall(request)
            time.sleep(0.5)  # the handler now waits for the database
            running.process.send_signal(signal.SIGTERM)
            time.sleep(0.5)
            with pytest.raises(ConnectionRefusedError):
                socket.create_connection(("127.0.0.1", port), timeout=2).close()
        reply = read_response(in_flight)
        in_flight.close()
        assert running.process.wait(timeout=20) == 0, running.logged()
    assert reply.startswith(b"HTTP/1.1 201"), reply[:300]
{%- endif %}


def test_sigterm_under_load_fails_no_accepted_request(
    environment: dict[str, str], tmp_path: Path
) -> None:
    with server(environment, tmp_path) as running, Load(int(environment["PORT"])) as load:
        time.sleep(1)
        running.process.send_signal(signal.SIGTERM)
        exit_code = running.process.wait(timeout=20)
    assert exit_code == 0, running.logged()
    assert load.failures == []
    assert load.served > 0
