"""The live item feed: a WebSocket per client, events after writes, slow clients, shutdown."""

import asyncio
import json
from collections.abc import Callable
from typing import Any

from aiohttp import ClientWebSocketResponse, WSCloseCode, WSMsgType
from pytest_aiohttp import AiohttpClient

from {{ cookiecutter.package_name }}.app import create_app
from {{ cookiecutter.package_name }}.feed import Feed, feed_key
from {{ cookiecutter.package_name }}.items.events import FEED_PATH
from {{ cookiecutter.package_name }}.settings import Settings

from .helpers import Client, create_item


async def until(condition: Callable[[], bool]) -> None:
    """Wait for the server's side of the sockets, which tells the client nothing."""
    async with asyncio.timeout(5):
        while not condition():
            await asyncio.sleep(0.01)


async def connect(
    client: Client, *, origin: str | None = None, autoping: bool = True
) -> ClientWebSocketResponse:
    """Open a socket and wait until the feed sends to it."""
    feed = client.app[feed_key]
    before = len(feed)
    socket = await client.ws_connect(FEED_PATH, origin=origin, autoping=autoping)
    await until(lambda: len(feed) > before)
    return socket


async def next_event(socket: ClientWebSocketResponse) -> dict[str, Any]:
    message = await socket.receive(timeout=5)
    assert message.type is WSMsgType.TEXT, message
    event: dict[str, Any] = json.loads(message.data)
    return event


async def custom_client(
    aiohttp_client: AiohttpClient, settings: Settings, **changes: Any
) -> Client:
    """A client of an app with these settings changed (nothing it writes is cleaned up)."""
    return await aiohttp_client(create_app(settings.model_copy(update=changes)))


async def test_each_change_arrives_as_one_json_message(client: Client) -> None:
    socket = await connect(client)
    created = await create_item(client, "lamp")
    assert await next_event(socket) == {
        "event": "created",
        "id": created["id"],
        "item": created,
    }

    url = f"/api/v1/items/{created['id']}"
    patched = await (await client.patch(url, json={"description": "brass"})).json()
    assert await next_event(socket) == {
        "event": "updated",
        "id": created["id"],
        "item": patched,
    }

    assert (await client.delete(url)).status == 204
    assert await next_event(socket) == {
        "event": "deleted",
        "id": created["id"],
        "item": None,
    }


async def test_a_write_that_fails_publishes_nothing(client: Client) -> None:
    socket = await connect(client)
    first = await create_item(client, "stool")
    assert (await next_event(socket))["id"] == first["id"]
    assert (await client.post("/api/v1/items", json={"name": "stool"})).status == 409
    assert (await client.delete("/api/v1/items/999999")).status == 404
    second = await create_item(client, "bench")
    assert (await next_event(socket))["id"] == second["id"]


async def test_every_open_socket_receives_each_event(client: Client) -> None:
    sockets = [await connect(client) for _ in range(3)]
    created = await create_item(client, "rug")
    events = await asyncio.gather(*map(next_event, sockets))
    assert all(event["item"] == created for event in events)


async def test_a_client_that_left_does_not_stop_the_others(client: Client) -> None:
    leaving, staying = await connect(client), await connect(client)
    await leaving.close()
    await until(lambda: len(client.app[feed_key]) == 1)
    created = await create_item(client, "shelf")
    assert (await next_event(staying))["id"] == created["id"]


async def test_a_socket_that_falls_behind_is_closed_with_1013(
    aiohttp_client: AiohttpClient, settings: Settings
) -> None:
    client = await custom_client(aiohttp_client, settings, feed_queue_size=1)
    socket = await connect(client)
    feed = client.app[feed_key]
    for number in range(
        3
    ):  # faster than the socket's task can send: its queue overflows
        feed.publish(json.dumps({"n": number}))
    message = await socket.receive(timeout=5)
    assert message.type is WSMsgType.CLOSE
    assert message.data == WSCloseCode.TRY_AGAIN_LATER
    assert len(feed) == 0


class FakeSocket:
    """A socket whose sends wait until the test lets them go."""

    def __init__(self, *, stuck: bool = False) -> None:
        self.sent: list[str] = []
        self.closed_with: tuple[int, bytes] | None = None
        self.unstick = asyncio.Event()
        if not stuck:
            self.unstick.set()

    async def send_str(self, data: str) -> None:
        self.sent.append(data)
        await self.unstick.wait()

    async def close(self, *, code: int, message: bytes) -> bool:
        self.closed_with = (code, message)
        return True


async def test_a_stuck_socket_is_dropped_while_the_others_get_every_message() -> None:
    feed = Feed(queue_size=2)
    stuck, fast = FakeSocket(stuck=True), FakeSocket()
    stuck_subscription = feed.subscribe(stuck)
    feed.subscribe(fast)
    for number in range(10):
        feed.publish(str(number))
        await asyncio.sleep(0)  # let the sockets' tasks run between messages
    assert fast.sent == [str(number) for number in range(10)]
    assert len(feed) == 1  # the stuck one left; it holds at most its queue, never more
    assert len(stuck.sent) == 1
    stuck.unstick.set()
    await stuck_subscription.wait_closed()
    assert stuck.closed_with == (
        WSCloseCode.TRY_AGAIN_LATER,
        b"too slow: events were dropped",
    )
    assert len(stuck.sent) == 1  # what was queued for it was dropped, not sent late


async def test_after_shutdown_a_late_socket_is_closed_at_once() -> None:
    feed = Feed(queue_size=2)
    await feed.close()
    late = FakeSocket()
    await feed.subscribe(late).wait_closed()
    assert late.closed_with == (WSCloseCode.GOING_AWAY, b"server shutdown")
    assert len(feed) == 0


async def test_shutdown_closes_open_sockets_with_1001(
    aiohttp_client: AiohttpClient, settings: Settings
) -> None:
    client = await custom_client(aiohttp_client, settings)
    sockets = [await connect(client) for _ in range(2)]
    stopping = asyncio.create_task(client.server.close())
    for socket in sockets:
        message = await socket.receive(timeout=5)
        assert message.type is WSMsgType.CLOSE
        assert message.data == WSCloseCode.GOING_AWAY
    async with asyncio.timeout(10):
        await stopping


async def test_an_open_socket_outlives_the_request_timeout(
    aiohttp_client: AiohttpClient, settings: Settings
) -> None:
    client = await custom_client(aiohttp_client, settings, request_timeout=0.1)
    socket = await connect(client)
    await asyncio.sleep(0.5)
    client.app[feed_key].publish('{"still": "open"}')
    assert await next_event(socket) == {"still": "open"}


async def test_the_server_pings_every_heartbeat(
    aiohttp_client: AiohttpClient, settings: Settings
) -> None:
    client = await custom_client(aiohttp_client, settings, feed_heartbeat=0.2)
    socket = await connect(client, autoping=False)
    message = await socket.receive(timeout=5)
    assert message.type is WSMsgType.PING


async def test_an_origin_listed_in_cors_origins_is_allowed(
    aiohttp_client: AiohttpClient, settings: Settings
) -> None:
    client = await custom_client(
        aiohttp_client, settings, cors_origins=["https://app.example"]
    )
    socket = await connect(client, origin="https://app.example")
    assert not socket.closed
