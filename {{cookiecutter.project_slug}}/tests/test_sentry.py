"""Sentry: an unhandled error is reported once, with its type and message, while the client gets
a problem+json 500 that reveals nothing; without a DSN nothing is loaded or started.

Events go to a transport that keeps them in memory, or to a stand-in for Sentry on 127.0.0.1:
nothing leaves the machine.
"""

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from pydantic import SecretStr
from pytest_aiohttp import AiohttpClient, AiohttpServer
from sentry_sdk.envelope import Envelope
from sentry_sdk.transport import Transport

from {{ cookiecutter.package_name }} import __version__
from {{ cookiecutter.package_name }}.app import create_app
from {{ cookiecutter.package_name }}.sentry_client import (
    sentry_context,
    sentry_transport_key,
)
from {{ cookiecutter.package_name }}.settings import Settings

from .helpers import assert_problem, run_fresh

# Never contacted: the tests put a transport of their own in its place.
DSN = "https://public@sentry.invalid/1"


class MemoryTransport(Transport):
    """Keeps the envelopes the client would send."""

    def __init__(self) -> None:
        super().__init__()
        self.envelopes: list[Envelope] = []

    def capture_envelope(self, envelope: Envelope) -> None:
        self.envelopes.append(envelope)

    @property
    def events(self) -> list[Mapping[str, Any]]:
        return [event for e in self.envelopes if (event := e.get_event()) is not None]


async def broken(_request: web.Request) -> web.Response:
    raise RuntimeError("the disk at /srv/data is on fire")


async def test_an_unhandled_error_is_reported_and_answered_without_internals(
    aiohttp_client: AiohttpClient, settings: Settings
) -> None:
    transport = MemoryTransport()
    reporting = {"sentry_dsn": SecretStr(DSN), "sentry_environment": "staging"}
    app = create_app(settings.model_copy(update=reporting))
    app[sentry_transport_key] = transport
    app.router.add_get("/broken/{part}", broken)
    client = await aiohttp_client(app)

    secrets = {"Cookie": "session=s3cr3t", "Authorization": "Bearer t0k3n"}
    response = await client.get("/broken/7", headers=secrets)
    body = await assert_problem(response, 500)
    assert "fire" not in json.dumps(body)
    assert "RuntimeError" not in json.dumps(body)
    await client.close()  # stops the app: the client is flushed and closed

    [event] = transport.events
    [error] = event["exception"]["values"]
    assert error["type"] == "RuntimeError"
    assert error["value"] == "the disk at /srv/data is on fire"
    assert event["transaction"] == "GET /broken/{part}"
    assert event["release"] == f"{{ cookiecutter.project_slug }}@{__version__}"
    assert event["environment"] == "staging"
    assert event["request"]["url"].endswith("/broken/7")
    assert "s3cr3t" not in json.dumps(event)
    assert "t0k3n" not in json.dumps(event)
    assert "user" not in event


async def test_the_sdk_transport_delivers_the_event_by_the_time_the_app_has_stopped(
    aiohttp_client: AiohttpClient,
    aiohttp_server: AiohttpServer,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    received: list[Envelope] = []

    async def ingest(request: web.Request) -> web.Response:
        received.append(Envelope.deserialize(await request.read()))
        return web.Response()

    sentry = web.Application()
    sentry.router.add_post("/api/1/envelope/", ingest)
    server = await aiohttp_server(
        sentry
    )  # a stand-in for Sentry on the loopback interface
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    dsn = SecretStr(f"http://public@127.0.0.1:{server.port}/1")
    app = create_app(settings.model_copy(update={"sentry_dsn": dsn}))
    app.router.add_get("/broken/{part}", broken)
    client = await aiohttp_client(app)
    await assert_problem(await client.get("/broken/7"), 500)

    await client.close()  # the app stops: the client sends what is queued
    events = [event for e in received if (event := e.get_event()) is not None]
    assert [event["exception"]["values"][0]["type"] for event in events] == [
        "RuntimeError"
    ]


async def test_answers_that_are_not_crashes_are_not_reported(
    aiohttp_client: AiohttpClient, settings: Settings
) -> None:
    transport = MemoryTransport()
    app = create_app(settings.model_copy(update={"sentry_dsn": SecretStr(DSN)}))
    app[sentry_transport_key] = transport
    client = await aiohttp_client(app)
    assert (await client.get("/api/v1/items/424242")).status == 404
    assert (await client.get("/no/such/page")).status == 404
    await client.close()
    assert transport.events == []


def test_without_a_dsn_the_app_starts_no_client(settings: Settings) -> None:
    assert sentry_context not in create_app(settings).cleanup_ctx
    with_dsn = create_app(settings.model_copy(update={"sentry_dsn": SecretStr(DSN)}))
    assert sentry_context in with_dsn.cleanup_ctx


# Run in a fresh interpreter: whether the SDK was imported or started is a question about a
# whole process.
_OFF = """
import asyncio, json, sys
from aiohttp.test_utils import TestClient, TestServer
from {{ cookiecutter.package_name }}.app import create_app
from {{ cookiecutter.package_name }}.settings import Settings

async def main():
    app = create_app(Settings(_env_file=None))
    async with TestClient(TestServer(app)) as client:
        status = (await client.get("/livez")).status
    print(json.dumps({"status": status, "loaded": "sentry_sdk" in sys.modules}))

asyncio.run(main())
"""


def test_without_a_dsn_the_sdk_is_not_even_imported(tmp_path: Path) -> None:
    assert run_fresh(_OFF, tmp_path, "SENTRY_") == {"status": 200, "loaded": False}
