"""The feed across processes: two service processes on one database and Redis, sockets on both."""

import asyncio
import json
import uuid
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import aiohttp
import pytest
from pydantic import SecretStr
from pytest_aiohttp import AiohttpClient

from {{ cookiecutter.package_name }}.app import create_app
from {{ cookiecutter.package_name }}.feed import feed_key
from {{ cookiecutter.package_name }}.items.events import FEED_PATH
from {{ cookiecutter.package_name }}.settings import Settings

from .helpers import create_item
from .live import environment_for, server

EVENTS = 12


@pytest.fixture
def bases(tmp_path: Path, settings: Settings) -> Iterator[list[str]]:
    """The base URLs of two service processes sharing the test database and Redis."""
    with ExitStack() as stack:
        urls = []
        for name in ("first", "second"):
            folder = tmp_path / name
            folder.mkdir()
            running = stack.enter_context(server(environment_for(folder, settings), folder))
            urls.append(running.base)
        yield urls


async def test_sockets_on_every_process_receive_every_event(bases: list[str]) -> None:
    async with aiohttp.ClientSession() as session:
        sockets = [
            await session.ws_connect(f"{base}{FEED_PATH}") for base in bases for _ in range(2)
        ]
        created = []
        for number in range(EVENTS):  # the writes alternate between the processes
            base = bases[number % 2]
            name = f"relayed-{uuid.uuid4().hex}"
            async with session.post(f"{base}/api/v1/items", json={"name": name}) as response:
                assert response.status == 201
                created.append((await response.json())["id"])
        for socket in sockets:
            received = [json.loads(await socket.receive_str(timeout=5))["id"] for _ in created]
            assert received == created
            await socket.close()


async def test_with_redis_down_a_write_still_reaches_the_sockets_of_its_process(
    aiohttp_client: AiohttpClient, settings: Settings
) -> None:
    down = {"redis_url": SecretStr("redis://127.0.0.1:1/0"), "redis_timeout": 1}
    client = await aiohttp_client(create_app(settings.model_copy(update=down)))
    socket = await client.ws_connect(FEED_PATH)
    async with asyncio.timeout(5):
        while not len(client.app[feed_key]):  # noqa: ASYNC110 - the server's side has no event
            await asyncio.sleep(0.01)
    created = await create_item(client, f"unrelayed-{uuid.uuid4().hex}")
    assert json.loads(await socket.receive_str(timeout=5))["id"] == created["id"]
