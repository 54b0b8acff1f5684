"""PostgreSQL's faults: a server down, hung, dropping connections, or too slow; each a 503."""

import asyncio
import itertools
import random
import socket
import time
from collections import Counter
from collections.abc import AsyncIterator, Iterator

import pytest
from pydantic import SecretStr
from pytest_aiohttp import AiohttpClient
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool

from {{ cookiecutter.package_name }}.app import create_app
from {{ cookiecutter.package_name }}.db import UnavailableError, connect
from {{ cookiecutter.package_name }}.models import items
from {{ cookiecutter.package_name }}.settings import Settings, settings_key

from .helpers import Client, assert_problem, create_item

ITEMS = "/api/v1/items"


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port that accepts TCP connections and never answers: a hung database server."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(16)
        yield listener.getsockname()[1]


async def test_unreachable_database_gives_503_with_retry_after(
    aiohttp_client: AiohttpClient, settings: Settings
) -> None:
    down = "postgresql+asyncpg://postgres@127.0.0.1:1/test"
    client = await aiohttp_client(
        create_app(settings.model_copy(update={"database_url": SecretStr(down)}))
    )
    assert (await client.get("/livez")).status == 200
    for method, url in (("GET", ITEMS), ("GET", f"{ITEMS}/1"), ("POST", ITEMS)):
        response = await client.request(method, url, json={"name": "x"})
        body = await assert_problem(response, 503)
        assert response.headers["Retry-After"].isdigit()
        assert "127.0.0.1:1" not in str(body)


async def test_hung_database_is_detected_within_the_timeout(
    aiohttp_client: AiohttpClient, settings: Settings, silent_port: int
) -> None:
    hung = f"postgresql+asyncpg://postgres@127.0.0.1:{silent_port}/test"
    app = create_app(
        settings.model_copy(update={"database_url": SecretStr(hung), "db_timeout": 1})
    )
    client = await aiohttp_client(app)
    started = time.monotonic()
    await assert_problem(await client.get("/readyz"), 503)
    await assert_problem(await client.get(ITEMS), 503)
    assert time.monotonic() - started < 5


async def drop_connections(admin: AsyncEngine) -> int:
    """Make the server end every other session of this database, as a restart would."""
    async with admin.connect() as connection:
        killed: int = await connection.scalar(
            text(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        )
    return killed


@pytest.fixture
async def admin(client: Client) -> AsyncIterator[AsyncEngine]:
    """A connection of its own to the service's database, to drop the service's sessions."""
    engine = create_async_engine(
        client.app[settings_key].database_url.get_secret_value(),
        isolation_level="AUTOCOMMIT",
        poolclass=NullPool,
    )
    yield engine
    await engine.dispose()


async def test_recovers_when_the_server_drops_every_connection(
    client: Client, admin: AsyncEngine
) -> None:
    created = await create_item(client, "survivor")
    url = f"{ITEMS}/{created['id']}"
    await asyncio.gather(
        *(client.get(url) for _ in range(5))
    )  # open several connections

    assert await drop_connections(admin)

    for _ in range(3):
        response = await client.get(url)
        assert response.status == 200


async def test_dropped_connections_never_give_a_500(
    client: Client, admin: AsyncEngine
) -> None:
    """30 drops under concurrent reads and writes: reads are retried, writes may be 503."""
    ids = [(await create_item(client, f"kept-{n}"))["id"] for n in range(10)]
    answers: Counter[tuple[str, int]] = Counter()
    names = itertools.count()
    dropping = True

    async def reader() -> None:
        while dropping:
            response = await client.get(f"{ITEMS}/{random.choice(ids)}")
            answers["GET", response.status] += 1
            if response.status == 503:
                assert response.headers["Retry-After"].isdigit()

    async def writer() -> None:
        while dropping:
            response = await client.post(ITEMS, json={"name": f"new-{next(names)}"})
            answers["POST", response.status] += 1
            if response.status == 503:
                assert response.headers["Retry-After"].isdigit()

    async def drop() -> None:
        nonlocal dropping
        for _ in range(30):
            await drop_connections(admin)
            await asyncio.sleep(0.02)
        dropping = False

    await asyncio.gather(
        drop(), *(reader() for _ in range(6)), *(writer() for _ in range(3))
    )

    print(dict(answers))  # what the storm gave, for the record (pytest -s)
    assert not {status for _, status in answers if status not in (200, 201, 503)}, (
        answers
    )
    assert answers["GET", 200] > 0
    assert answers["POST", 201] > 0
    # Once the drops stop, everything works again.
    assert (await client.get(f"{ITEMS}/{ids[0]}")).status == 200
    assert (await client.post(ITEMS, json={"name": "after the storm"})).status == 201


async def test_a_statement_longer_than_db_statement_timeout_is_cancelled(
    settings: Settings,
) -> None:
    async with connect(
        settings.model_copy(update={"db_statement_timeout": 0.2})
    ) as database:
        started = time.monotonic()
        with pytest.raises(UnavailableError, match="statement timeout"):
            await database.fetch_value(select(func.pg_sleep(5)))
        assert time.monotonic() - started < 2
        assert await database.fetch_value(select(func.count()).select_from(items)) == 0


async def test_a_cancelled_read_keeps_its_connection_and_the_server_stops_it(
    settings: Settings,
) -> None:
    """A client hanging up mid-read cancels the statement, not the session (no new backend)."""
    async with connect(settings.model_copy(update={"db_pool_size": 1})) as database:
        backend = select(func.pg_backend_pid())
        before = await database.fetch_value(backend)
        read = asyncio.create_task(database.fetch_value(select(func.pg_sleep(5))))
        await asyncio.sleep(0.3)
        read.cancel()
        with pytest.raises(asyncio.CancelledError):
            await read
        started = time.monotonic()
        assert await database.fetch_value(backend) == before
        # The server stopped the sleep: the next statement did not wait for it to end.
        assert time.monotonic() - started < 2
