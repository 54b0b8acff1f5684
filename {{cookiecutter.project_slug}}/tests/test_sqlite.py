"""SQLite's faults and waits: a locked file or busy threads answer 503 within DB_TIMEOUT."""

import asyncio
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager

import pytest
from pytest_aiohttp import AiohttpClient
from sqlalchemy import insert, select, text

from {{ cookiecutter.package_name }}.app import create_app
from {{ cookiecutter.package_name }}.db import Database, UnavailableError
from {{ cookiecutter.package_name }}.db.threads import Connections
from {{ cookiecutter.package_name }}.models import items
from {{ cookiecutter.package_name }}.settings import Settings

from .helpers import assert_problem


@pytest.fixture
def locked_database(
    block_writes: Callable[[], AbstractContextManager[None]],
) -> Iterator[None]:
    """Another process holds the write lock of the file for the whole test."""
    with block_writes():
        yield


@pytest.mark.usefixtures("locked_database")
async def test_a_locked_database_gives_503_within_db_timeout(
    aiohttp_client: AiohttpClient, settings: Settings
) -> None:
    client = await aiohttp_client(
        create_app(settings.model_copy(update={"db_timeout": 0.2}))
    )
    started = time.monotonic()
    response = await client.post("/api/v1/items", json={"name": "waiting"})
    waited = time.monotonic() - started
    await assert_problem(response, 503)
    assert response.headers["Retry-After"].isdigit()
    # SQLite's busy timeout is DB_TIMEOUT too: it waited for the lock that long, no longer.
    assert 0.2 <= waited < 1.0


async def test_a_value_sqlite_cannot_bind_fails_its_call_and_the_writer_goes_on(
    database: Database,
) -> None:
    # sqlite3 raises this error itself, without an SQLite error code; the writer's thread must
    # answer it and live on (the wait_for only turns a hang into a failure).
    with pytest.raises(sqlite3.ProgrammingError, match="binding parameter"):
        await asyncio.wait_for(
            database.execute(text("UPDATE items SET name = :name"), {"name": {"a": 1}}),
            10,
        )
    add = insert(items).values(name="after").returning(items.c.id)
    item_id = await asyncio.wait_for(database.fetch_value(add), 10)
    assert (
        await database.fetch_value(select(items.c.name).where(items.c.id == item_id))
        == "after"
    )


class _MemoryDriver:
    """Real SQLite connections, in memory: the threads' turns are under test, not the file."""

    def connect(self) -> sqlite3.Connection:
        return sqlite3.connect(":memory:", check_same_thread=False)

    def close(self, connection: sqlite3.Connection) -> None:
        connection.close()

    def translate(self, error: Exception) -> Exception:
        return error


def _one(connection: sqlite3.Connection) -> int:
    value: int = connection.execute("SELECT 1").fetchone()[0]
    return value


async def test_a_job_fails_when_its_wait_is_up_while_the_threads_stay_busy() -> None:
    connections = Connections("test", 1, _MemoryDriver(), patience=0.2)
    release = threading.Event()
    ran: list[str] = []
    try:
        busy = connections.run(lambda _: release.wait(10))
        started = time.monotonic()
        with pytest.raises(UnavailableError, match=r"waited more than 0\.2 s"):
            await connections.run(lambda _: ran.append("expired"))
        assert 0.2 <= time.monotonic() - started < 1.0
        assert not busy.done()
        release.set()
        assert await asyncio.wait_for(busy, 5) is True
        # The expired job was skipped, and the next one is served as usual.
        assert await asyncio.wait_for(connections.run(_one), 5) == 1
        assert ran == []
    finally:
        release.set()
        await connections.close()
