"""The feed across processes: two service processes on one database and Redis, sockets on both."""

import asyncio
import contextlib
import json
import uuid
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from urllib.parse import urlsplit

import aiohttp
import pytest
from pydantic import SecretStr
from pytest_aiohttp import AiohttpClient
from redis.exceptions import RedisError

from {{ cookiecutter.package_name }}.app import create_app
from {{ cookiecutter.package_name }}.cache import redis_key
from {{ cookiecutter.package_name }}.feed import feed_key
from {{ cookiecutter.package_name }}.items.events import FEED_PATH
from {{ cookiecutter.package_name }}.settings import Settings

from .helpers import auth_headers, create_item
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
            running = stack.enter_context(
                server(environment_for(folder, settings), folder)
            )
            urls.append(running.base)
        yield urls


async def test_sockets_on_every_process_receive_every_event(
    bases: list[str], settings: Settings
) -> None:
    async with aiohttp.ClientSession(headers=auth_headers(settings)) as session:
        sockets = [
            await session.ws_connect(f"{base}{FEED_PATH}")
            for base in bases
            for _ in range(2)
        ]
        created = []
        for number in range(EVENTS):  # the writes alternate between the processes
            base = bases[number % 2]
            name = f"relayed-{uuid.uuid4().hex}"
            async with session.post(
                f"{base}/api/v1/items", json={"name": name}
            ) as response:
                assert response.status == 201
                created.append((await response.json())["id"])
        for socket in sockets:
            received = [
                json.loads(await socket.receive_str(timeout=5))["id"] for _ in created
            ]
            assert received == created
            await socket.close()


async def test_with_redis_down_a_write_still_reaches_the_sockets_of_its_process(
    aiohttp_client: AiohttpClient, settings: Settings
) -> None:
    down = {"redis_url": SecretStr("redis://127.0.0.1:1/0"), "redis_timeout": 1}
    client = await aiohttp_client(create_app(settings.model_copy(update=down)))
    socket = await client.ws_connect(FEED_PATH)
    async with asyncio.timeout(5):
        while not len(client.app[feed_key]):
            await asyncio.sleep(0.01)
    created = await create_item(client, f"unrelayed-{uuid.uuid4().hex}")
    assert json.loads(await socket.receive_str(timeout=5))["id"] == created["id"]


class Cutter:
    """A TCP relay to Redis that can cut every connection through it, as a network fault would."""

    def __init__(self, target: str) -> None:
        parts = urlsplit(target)
        self._target = (parts.hostname or "127.0.0.1", parts.port or 6379)
        self._transports: list[asyncio.WriteTransport] = []
        self._server: asyncio.Server | None = None

    async def start(self) -> int:
        self._server = await asyncio.start_server(self._relay, "127.0.0.1", 0)
        port: int = self._server.sockets[0].getsockname()[1]
        return port

    async def close(self) -> None:
        self.cut()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    def cut(self) -> None:
        for transport in self._transports:
            transport.abort()
        self._transports.clear()

    async def _relay(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        upstream_reader, upstream_writer = await asyncio.open_connection(*self._target)
        self._transports += [writer.transport, upstream_writer.transport]
        await asyncio.gather(
            _pipe(reader, upstream_writer), _pipe(upstream_reader, writer)
        )


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    with contextlib.suppress(OSError):
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    writer.close()


async def test_the_relay_listens_again_after_losing_redis(
    aiohttp_client: AiohttpClient, settings: Settings, redis_url: str
) -> None:
    cutter = Cutter(redis_url)
    port = await cutter.start()
    through = urlsplit(redis_url)._replace(netloc=f"127.0.0.1:{port}").geturl()
    client = await aiohttp_client(
        create_app(settings.model_copy(update={"redis_url": SecretStr(through)}))
    )
    socket = await client.ws_connect(FEED_PATH)
    async with asyncio.timeout(5):
        while not len(client.app[feed_key]):
            await asyncio.sleep(0.01)
    redis = client.app[redis_key]  # its connections go through the cutter too
    channel = f"{settings.cache_prefix}feed"
    try:
        await redis.publish(channel, '{"before": "the cut"}')
        assert json.loads(await socket.receive_str(timeout=5)) == {"before": "the cut"}
        cutter.cut()
        async with asyncio.timeout(10):
            while (
                True
            ):  # what is published while the relay is cut off is lost: publish again
                with contextlib.suppress(RedisError):
                    await redis.publish(channel, '{"after": "the cut"}')
                with contextlib.suppress(TimeoutError):
                    message = await socket.receive_str(timeout=0.2)
                    break
        assert json.loads(message) == {"after": "the cut"}
    finally:
        await cutter.close()
