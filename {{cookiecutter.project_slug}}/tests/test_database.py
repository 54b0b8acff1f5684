"""The data layer's life in the service: transactions, turns, timeouts, readiness, shutdown."""

import asyncio
import json
import signal
import socket
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path

import pytest
from pydantic import SecretStr
from pytest_aiohttp import AiohttpClient
from sqlalchemy import func, insert, select

from {{ cookiecutter.package_name }}.app import create_app
from {{ cookiecutter.package_name }}.db import (
    ConstraintError,
    Database,
    connect,
    database_key,
)
from {{ cookiecutter.package_name }}.models import items
from {{ cookiecutter.package_name }}.settings import Settings

from .helpers import assert_problem, raw_auth_headers
from .live import environment_for, read_to_end, server

ITEMS = "/api/v1/items"


async def test_a_transaction_commits_all_its_statements_or_none(
    database: Database,
) -> None:
    async with database.transaction() as transaction:
        await transaction.execute(insert(items), {"name": "one"})
        await transaction.execute(insert(items), {"name": "two"})
        # The transaction sees its own writes.
        assert (
            await transaction.fetch_value(select(func.count()).select_from(items)) == 2
        )

    async def add_three_then_one_again() -> None:
        async with database.transaction() as transaction:
            await transaction.execute(insert(items), {"name": "three"})
            await transaction.execute(insert(items), {"name": "one"})

    with pytest.raises(ConstraintError):
        await add_three_then_one_again()

    names = await database.fetch_all(select(items.c.name).order_by(items.c.id))
    assert names == [{"name": "one"}, {"name": "two"}]


async def test_a_cancelled_transaction_rolls_back_and_frees_the_database(
    database: Database,
) -> None:
    inside = asyncio.Event()

    async def stuck() -> None:
        async with database.transaction() as transaction:
            await transaction.execute(insert(items), {"name": "never"})
            inside.set()
            await asyncio.Event().wait()

    task = asyncio.create_task(stuck())
    await inside.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    async with asyncio.timeout(2):
        await database.execute(insert(items), {"name": "after"})
    names = await database.fetch_all(select(items.c.name))
    assert names == [{"name": "after"}]


async def test_writes_take_their_turns_in_the_order_they_came(
    settings: Settings,
) -> None:
    database = connect(settings.model_copy(update={"db_pool_size": 1}))
    await database.open()
    order: list[str] = []

    async def write(name: str) -> None:
        await database.execute(insert(items), {"name": name})
        order.append(name)

    try:
        held = database.transaction()
        await held.__aenter__()
        waiting = []
        for name in ("a", "b", "c"):
            waiting.append(asyncio.create_task(write(name)))
            await asyncio.sleep(0.01)
        await held.__aexit__(None, None, None)
        # Comes as the turn is given back, before the others have run: it must not jump in.
        waiting.append(asyncio.create_task(write("late")))
        await asyncio.gather(*waiting)
    finally:
        await database.execute(items.delete())
        await database.close()
    assert order == ["a", "b", "c", "late"]


async def test_a_request_that_waits_longer_than_db_timeout_is_a_503(
    aiohttp_client: AiohttpClient, settings: Settings
) -> None:
    quick = settings.model_copy(update={"db_timeout": 0.2, "db_pool_size": 1})
    app = create_app(quick)
    client = await aiohttp_client(app)
    # The answer comes when DB_TIMEOUT is up, while the turn is still taken.
    async with app[database_key].transaction():
        started = time.monotonic()
        response = await asyncio.wait_for(client.post(ITEMS, json={"name": "waits"}), 5)
        waited = time.monotonic() - started
    assert 0.2 <= waited < 1.0
    await assert_problem(response, 503)
    assert response.headers["Retry-After"] == "5"
    created = await client.post(ITEMS, json={"name": "waits"})
    assert created.status == 201
    assert (await client.delete(created.headers["Location"])).status == 204


async def test_a_broken_database_makes_readyz_503_but_livez_200(
    aiohttp_client: AiohttpClient, settings: Settings, broken_database_url: str
) -> None:
    broken = settings.model_copy(
        update={"database_url": SecretStr(broken_database_url), "db_timeout": 2}
    )
    client = await aiohttp_client(create_app(broken))

    ready = await client.get("/readyz")
    body = await assert_problem(ready, 503)
    assert body["checks"]["database"] == "unavailable"
    assert ready.headers["Retry-After"].isdigit()
    assert broken_database_url.rpartition("//")[2] not in await ready.text()
    assert (await client.get("/livez")).status == 200


def test_the_database_url_is_masked_in_the_settings_repr(database_url: str) -> None:
    secret = f"{database_url}#hunter2"
    settings = Settings(_env_file=None, database_url=SecretStr(secret))
    assert "hunter2" not in repr(settings)
    assert "hunter2" not in str(settings.model_dump())


def item_post(settings: Settings, name: str, *, close: bool = False) -> bytes:
    """A request creating an item, written by hand (with the tests' token when there is auth)."""
    body = json.dumps({"name": name}).encode()
    return (
        b"POST /api/v1/items HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n"
        + raw_auth_headers(settings)
        + (b"Connection: close\r\n" if close else b"")
        + f"Content-Length: {len(body)}\r\n\r\n".encode()
        + body
    )


def test_sigterm_lets_a_write_in_flight_finish(
    settings: Settings,
    tmp_path: Path,
    block_writes: Callable[[], AbstractContextManager[None]],
) -> None:
    environment = environment_for(tmp_path, settings)
    port = int(environment["PORT"])
    request = item_post(settings, "in flight", close=True)
    with server(environment, tmp_path) as running:
        with block_writes():
            in_flight = socket.create_connection(("127.0.0.1", port), timeout=20)
            in_flight.sendall(request)
            time.sleep(0.5)  # the handler now waits for the database
            running.process.send_signal(signal.SIGTERM)
            time.sleep(0.5)
            with pytest.raises(ConnectionRefusedError):
                socket.create_connection(("127.0.0.1", port), timeout=2).close()
        reply = read_to_end(in_flight)
        in_flight.close()
        assert running.process.wait(timeout=20) == 0, running.logged()
    assert reply.startswith(b"HTTP/1.1 201"), reply[:300]


def test_a_write_whose_client_hangs_up_is_still_done_entirely(
    settings: Settings,
    tmp_path: Path,
    block_writes: Callable[[], AbstractContextManager[None]],
) -> None:
    environment = environment_for(tmp_path, settings)
    port = int(environment["PORT"])
    with server(environment, tmp_path) as running:
        with block_writes():
            abandoned = socket.create_connection(("127.0.0.1", port), timeout=20)
            abandoned.sendall(item_post(settings, "abandoned"))
            time.sleep(1)  # the handler now waits for the database
            abandoned.close()
            time.sleep(1)  # and the server has cancelled it
        again = socket.create_connection(("127.0.0.1", port), timeout=20)
        again.sendall(item_post(settings, "abandoned", close=True))
        reply = read_to_end(again)
        again.close()
        assert running.stop() == 0
    # The write that had begun was done, though nobody was left to be told.
    assert reply.startswith(b"HTTP/1.1 409"), reply[:300]
    # The handler was cancelled when its client left: no answer was made for it.
    assert running.logged().count('"status":201') == 0, running.logged()
    assert "Traceback" not in running.logged()
