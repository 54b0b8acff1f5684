"""The server's connections, over raw sockets: requests that are not HTTP, slow clients."""

import json
import re
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from {{ cookiecutter.package_name }}.settings import Settings

from .helpers import raw_auth_headers
from .live import Server, environment_for, read_to_end, server

# Small bounds, so that the tests are quick; what is checked is that each is kept, generously.
HEADER_TIMEOUT = 1.0
BODY_TIMEOUT = 1.0
MARGIN = 5.0

NOT_HTTP = {
    "a 100 KB URL": b"GET /" + b"a" * 100_000 + b" HTTP/1.1\r\nHost: t\r\n\r\n",
    "1,000 headers": b"GET / HTTP/1.1\r\nHost: t\r\n"
    + b"X-A: aaaa\r\n" * 1000
    + b"\r\n",
    "a 64 KB header": b"GET / HTTP/1.1\r\nHost: t\r\nX-A: "
    + b"a" * 65536
    + b"\r\n\r\n",
    "Content-Length and Transfer-Encoding": (
        b"POST /api/v1/items HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
    ),
    "a CR in X-Request-ID": b"GET /livez HTTP/1.1\r\nHost: t\r\nX-Request-ID: aaaa\raaaa\r\n\r\n",
}


@pytest.fixture
def running(settings: Settings, tmp_path: Path) -> Iterator[Server]:
    environment = environment_for(
        tmp_path,
        settings,
        HEADER_TIMEOUT=str(HEADER_TIMEOUT),
        BODY_TIMEOUT=str(BODY_TIMEOUT),
    )
    with server(environment, tmp_path) as started:
        yield started


def connect(running: Server) -> socket.socket:
    port = int(running.base.rsplit(":", 1)[1])
    return socket.create_connection(
        ("127.0.0.1", port), timeout=HEADER_TIMEOUT + MARGIN
    )


def parse(answer: bytes) -> tuple[int, dict[str, str], bytes]:
    head, _, body = answer.partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return int(status_line.split()[1]), headers, body


def test_requests_that_are_not_http_get_a_problem_and_one_log_line(
    running: Server,
) -> None:
    for case, request in NOT_HTTP.items():
        with connect(running) as connection:
            connection.sendall(request)
            # Read to the end: the server closes the connection, as nothing after can be framed.
            status, headers, body = parse(read_to_end(connection))
        assert status == 400, case
        assert headers["content-type"] == "application/problem+json", case
        assert headers["server"] == "{{ cookiecutter.project_slug }}", case
        assert headers["x-content-type-options"] == "nosniff", case
        assert headers["content-security-policy"].startswith("default-src 'none'"), case
        assert re.fullmatch(r"[0-9a-f]{32}", headers["x-request-id"]), case
        problem = json.loads(body)
        assert problem["status"] == 400, case
        assert problem["title"] == "Bad Request", case
        assert b"aaaa" not in body, case
    logged = running.logged()
    assert logged.count("a request that is not valid HTTP") == len(NOT_HTTP), logged
    assert "Traceback" not in logged
    assert '"level":"ERROR"' not in logged


def test_a_valid_request_still_keeps_its_connection(running: Server) -> None:
    with connect(running) as connection:
        for _ in range(2):
            connection.sendall(b"GET /livez HTTP/1.1\r\nHost: t\r\n\r\n")
            status, headers, _ = parse(connection.recv(65536))
            assert status == 200
            assert headers.get("connection") != "close"


def test_a_request_head_sent_slowly_is_cut_at_header_timeout(running: Server) -> None:
    head = b"GET /livez HTTP/1.1\r\nHost: t\r\nX-Slow: " + b"a" * 100
    with connect(running) as connection:
        started = time.monotonic()
        closed_after = None
        for byte in head:
            try:
                connection.sendall(bytes([byte]))
                time.sleep(0.1)
            except OSError:  # reset: the server has closed the connection
                closed_after = time.monotonic() - started
                break
            if time.monotonic() - started > HEADER_TIMEOUT + MARGIN:
                break
        if closed_after is None:
            connection.settimeout(0.5)
            try:
                closed = connection.recv(1) == b""
            except TimeoutError:
                closed = False
            closed_after = time.monotonic() - started if closed else None
    assert closed_after is not None, "the slow client was not cut off"
    assert closed_after < HEADER_TIMEOUT + MARGIN
    assert "no complete request head in 1 s" in running.logged()


def test_a_body_sent_slowly_is_answered_408_at_body_timeout(
    running: Server, settings: Settings
) -> None:
    with connect(running) as connection:
        connection.sendall(
            b"POST /api/v1/items HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
            + raw_auth_headers(settings)
            + b"Content-Length: 100\r\n\r\n{"
        )
        started = time.monotonic()
        status, headers, body = parse(read_to_end(connection))
        elapsed = time.monotonic() - started
    assert elapsed < BODY_TIMEOUT + MARGIN
    assert status == 408
    assert headers["content-type"] == "application/problem+json"
    assert headers["connection"] == "close"
    assert json.loads(body)["detail"] == "The request body took longer than 1 s."


def test_an_idle_connection_is_closed_at_keepalive_timeout(
    settings: Settings, tmp_path: Path
) -> None:
    environment = environment_for(tmp_path, settings, KEEPALIVE_TIMEOUT="1")
    with server(environment, tmp_path) as idle, connect(idle) as connection:
        connection.sendall(b"GET /livez HTTP/1.1\r\nHost: t\r\n\r\n")
        assert parse(connection.recv(65536))[0] == 200
        started = time.monotonic()
        assert connection.recv(1) == b"", "the idle connection was not closed"
        assert time.monotonic() - started < 1 + MARGIN
