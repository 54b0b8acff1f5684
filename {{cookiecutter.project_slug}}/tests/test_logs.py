"""Log records: the request id in each line, the JSON format, the access log."""

import asyncio
import io
import json
import logging
import os
import pty
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.log import access_logger
from aiohttp.test_utils import TestClient, make_mocked_request
from pytest_aiohttp import AiohttpClient, AiohttpServer

from {{ cookiecutter.package_name }} import access, logs
from {{ cookiecutter.package_name }}.app import create_app
from {{ cookiecutter.package_name }}.settings import Settings


async def test_records_logged_while_handling_a_request_carry_its_id(
    aiohttp_client: AiohttpClient, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    async def chatty(_request: web.Request) -> web.Response:
        logging.getLogger("test.chatty").warning("working on it")
        return web.Response()

    app = create_app(settings)
    app.router.add_get("/chatty", chatty)
    client = await aiohttp_client(app)
    caplog.handler.addFilter(logs.RequestIdFilter())
    await client.get("/chatty", headers={"X-Request-ID": "req-42"})
    [record] = [r for r in caplog.records if r.name == "test.chatty"]
    assert getattr(record, "request_id", None) == "req-42"


def test_json_lines_hold_level_message_and_extras() -> None:
    record = logging.makeLogRecord(
        {
            "name": "svc",
            "levelname": "INFO",
            "levelno": 20,
            "msg": "hello %s",
            "args": ("you",),
        }
    )
    record.request_id = "r1"
    record.status = 201
    line = json.loads(logs.JsonFormatter().format(record))
    assert line["message"] == "hello you"
    assert line["level"] == "INFO"
    assert line["logger"] == "svc"
    assert (line["request_id"], line["status"]) == ("r1", 201)
    assert line["time"].endswith("+00:00")


def _fail() -> None:
    raise ValueError("bad")


def test_json_lines_include_the_exception() -> None:
    try:
        _fail()
    except ValueError:
        exc_info = sys.exc_info()
    record = logging.makeLogRecord({"msg": "failed", "exc_info": exc_info})
    line = json.loads(logs.JsonFormatter().format(record))
    assert "ValueError: bad" in line["exception"]


async def test_access_log_has_method_path_status_duration_and_request_id(
    aiohttp_server: AiohttpServer,
    aiohttp_client: AiohttpClient,
    settings: Settings,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger=access_logger.name)
    server = await aiohttp_server(
        create_app(settings),
        access_log_class=access.AccessLogger,
        access_log=access_logger,
    )
    client: TestClient[web.Request, None] = await aiohttp_client(server)
    await client.get("/livez", headers={"X-Request-ID": "acc-1"})
    [record] = [r for r in caplog.records if r.name == access_logger.name]
    assert record.__dict__["method"] == "GET"
    assert record.__dict__["path"] == "/livez"
    assert record.__dict__["status"] == 200
    assert record.__dict__["request_id"] == "acc-1"
    assert record.__dict__["duration_ms"] >= 0


@pytest.fixture
def json_logger(
    request: pytest.FixtureRequest,
) -> Iterator[tuple[logging.Logger, io.StringIO]]:
    """A logger of this test alone, writing JSON lines to a string as `setup_logging` would."""
    stream = io.StringIO()
    handler = logs.BatchingStreamHandler(stream)
    handler.setFormatter(logs.JsonFormatter())
    handler.addFilter(logs.RequestIdFilter())
    logger = logging.getLogger(f"test.{request.node.name}")
    logger.handlers[:] = [handler]
    logger.propagate = False
    logger.setLevel(logging.INFO)
    yield logger, stream
    logger.handlers.clear()


def test_json_time_is_utc_to_the_millisecond() -> None:
    record = logging.makeLogRecord({"msg": "x", "created": 1_700_000_000.1239})
    line = json.loads(logs.JsonFormatter().format(record))
    assert line["time"] == "2023-11-14T22:13:20.123+00:00"


async def test_lines_logged_on_the_loop_are_written_together_at_its_next_turn(
    json_logger: tuple[logging.Logger, io.StringIO],
) -> None:
    logger, stream = json_logger
    logger.info("first")
    logger.warning("second")
    assert stream.getvalue() == ""
    await asyncio.sleep(0)
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert [line["message"] for line in lines] == ["first", "second"]


def test_a_line_logged_off_the_loop_is_written_at_once(
    json_logger: tuple[logging.Logger, io.StringIO],
) -> None:
    logger, stream = json_logger
    logger.info("now")
    assert json.loads(stream.getvalue())["message"] == "now"


async def test_access_line_without_a_record_is_the_line_the_record_gives(
    json_logger: tuple[logging.Logger, io.StringIO], monkeypatch: pytest.MonkeyPatch
) -> None:
    direct, direct_stream = json_logger
    # pytest adds its capture handlers to loggers that do not propagate; here none may listen.
    direct.handlers[1:] = []
    recorded = logging.getLogger(f"{direct.name}.recorded")
    recorded_stream = io.StringIO()
    recorded.handlers[:] = [logs.BatchingStreamHandler(recorded_stream)]
    recorded.handlers[0].setFormatter(logs.JsonFormatter())
    recorded.propagate = False
    # A filter listens on this logger: its access lines must go through records.
    recorded.addFilter(lambda _record: True)

    def no_records(*_args: object, **_kwargs: object) -> logging.LogRecord:
        raise AssertionError("the direct path made a record")

    monkeypatch.setattr(direct, "makeRecord", no_records)
    request = make_mocked_request("GET", "/api/v1/items/7")
    response = web.Response(status=404, headers={"X-Request-ID": "acc-2"})
    for logger in (direct, recorded):
        access.AccessLogger(logger, "").log(request, response, 0.0123)
    await asyncio.sleep(0)
    recorded.handlers.clear()
    lines = [
        json.loads(stream.getvalue()) for stream in (direct_stream, recorded_stream)
    ]
    for line, logger in zip(lines, (direct, recorded), strict=True):
        assert line.pop("logger") == logger.name
        assert line.pop("time").endswith("+00:00")
    expected = {
        "level": "INFO",
        "message": "GET /api/v1/items/7 404",
        "method": "GET",
        "path": "/api/v1/items/7",
        "status": 404,
        "duration_ms": 12.3,
        "request_id": "acc-2",
    }
    assert lines == [expected, expected]


class Terminal(io.StringIO):
    """A stream that says it is a terminal, as a person's shell is."""

    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize(
    ("asked", "stream", "chosen"),
    [
        ("auto", Terminal(), "console"),
        ("auto", io.StringIO(), "json"),
        ("json", Terminal(), "json"),
        ("console", io.StringIO(), "console"),
    ],
)
def test_auto_lines_are_for_people_on_a_terminal_and_json_elsewhere(
    asked: str, stream: io.StringIO, chosen: str
) -> None:
    assert logs.line_format(asked, stream) == chosen


def test_a_server_started_in_a_terminal_writes_console_lines(tmp_path: Path) -> None:
    """The whole way: the server's stderr is a pseudo-terminal, LOG_FORMAT is not set."""
    leader, follower = pty.openpty()
    environment = {
        "PATH": os.environ.get("PATH", ""),
        "PORT": "1",
        "TMPDIR": str(tmp_path),
    }
    environment["HOST"] = (
        "256.0.0.1"  # not an address: the server logs its start, then stops
    )
    process = subprocess.run(
        [
            sys.executable,
            "-m",
            "{{ cookiecutter.package_name }}",
            "serve",
        ],
        env=environment,
        cwd=tmp_path,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=follower,
        timeout=60,
        check=False,
    )
    os.close(follower)
    with os.fdopen(leader, "rb") as terminal:
        written = terminal.read1(65536).decode()
    first = written.splitlines()[0]
    assert process.returncode != 0
    assert "serving on" in first
    assert not first.startswith("{"), written
