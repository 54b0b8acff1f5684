"""Log records: the request id in each line, the JSON format, the access log."""

import json
import logging
import sys

import pytest
from aiohttp import web
from aiohttp.log import access_logger
from aiohttp.test_utils import TestClient
from pytest_aiohttp import AiohttpClient, AiohttpServer

from {{ cookiecutter.package_name }} import logs
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
        {"name": "svc", "levelname": "INFO", "levelno": 20, "msg": "hello %s", "args": ("you",)}
    )
    record.request_id = "r1"
    record.status = 201
    line = json.loads(logs.JsonFormatter().format(record))
    assert line["message"] == "hello you"
    assert line["level"] == "INFO"
    assert line["logger"] == "svc"
    assert (line["request_id"], line["status"]) == ("r1", 201)
    assert line["time"].endswith("+00:00")


def test_json_lines_include_the_exception() -> None:
    try:
        raise ValueError("bad")  # noqa: TRY301
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
        create_app(settings), access_log_class=logs.AccessLogger, access_log=access_logger
    )
    client: TestClient[web.Request, None] = await aiohttp_client(server)
    await client.get("/livez", headers={"X-Request-ID": "acc-1"})
    [record] = [r for r in caplog.records if r.name == access_logger.name]
    assert record.__dict__["method"] == "GET"
    assert record.__dict__["path"] == "/livez"
    assert record.__dict__["status"] == 200
    assert record.__dict__["request_id"] == "acc-1"
    assert record.__dict__["duration_ms"] >= 0
