"""Faults and hostile input: outages answer 503 and recover, limits hold, CORS stays closed."""

{%- if cookiecutter.database == "postgresql" %}

import asyncio
import itertools
import random
import socket
import time
from collections import Counter
from collections.abc import AsyncIterator, Iterator
{%- elif cookiecutter.database == "sqlite" %}

import sqlite3
import time
from collections.abc import Iterator
{%- endif %}

import pytest
{%- if cookiecutter.database == "postgresql" %}
from pydantic import SecretStr
{%- endif %}
from pytest_aiohttp import AiohttpClient
{%- if cookiecutter.database == "postgresql" %}
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool
{%- endif %}

from {{ cookiecutter.package_name }}.app import create_app
from {{ cookiecutter.package_name }}.settings import Settings{% if cookiecutter.database == "postgresql" %}, settings_key{% endif %}

from .helpers import Client{% if cookiecutter.database != "none" %}, assert_problem{% endif %}{% if cookiecutter.database == "postgresql" %}, create_item{% endif %}

ITEMS = "/api/v1/items"
{%- if cookiecutter.database == "postgresql" %}


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
    app = create_app(settings.model_copy(update={"database_url": SecretStr(hung), "db_timeout": 1}))
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
    await asyncio.gather(*(client.get(url) for _ in range(5)))  # open several connections

    assert await drop_connections(admin)

    for _ in range(3):
        response = await client.get(url)
        assert response.status == 200


async def test_dropped_connections_never_give_a_500(client: Client, admin: AsyncEngine) -> None:
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

    await asyncio.gather(drop(), *(reader() for _ in range(6)), *(writer() for _ in range(3)))

    print(dict(answers))  # what the storm gave, for the record (pytest -s)
    assert not {status for _, status in answers if status not in (200, 201, 503)}, answers
    assert answers["GET", 200] > 0
    assert answers["POST", 201] > 0
    # Once the drops stop, everything works again.
    assert (await client.get(f"{ITEMS}/{ids[0]}")).status == 200
    assert (await client.post(ITEMS, json={"name": "after the storm"})).status == 201
{%- elif cookiecutter.database == "sqlite" %}


@pytest.fixture
def locked_database(database_url: str) -> Iterator[None]:
    """Another process holds the write lock of the SQLite file for the whole test."""
    path = database_url.removeprefix("sqlite+aiosqlite:///")
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    yield
    holder.execute("ROLLBACK")
    holder.close()


@pytest.mark.usefixtures("locked_database")
async def test_a_locked_database_gives_503_within_db_timeout(
    aiohttp_client: AiohttpClient, settings: Settings
) -> None:
    client = await aiohttp_client(create_app(settings.model_copy(update={"db_timeout": 0.2})))
    started = time.monotonic()
    response = await client.post(ITEMS, json={"name": "waiting"})
    waited = time.monotonic() - started
    await assert_problem(response, 503)
    assert response.headers["Retry-After"].isdigit()
    # SQLite's busy timeout is DB_TIMEOUT too: it waited for the lock that long, no longer.
    assert 0.2 <= waited < 1.0
{%- endif %}


async def test_oversized_headers_are_refused_and_the_server_carries_on(client: Client) -> None:
    response = await client.get("/livez", headers={"X-Padding": "x" * 20_000})
    assert response.status in (400, 431)
    assert (await client.get("/livez")).status == 200


async def test_cors_is_off_by_default(client: Client) -> None:
    response = await client.get(ITEMS, headers={"Origin": "https://elsewhere.example"})
    assert "Access-Control-Allow-Origin" not in response.headers
    preflight = await client.options(
        ITEMS,
        headers={"Origin": "https://elsewhere.example", "Access-Control-Request-Method": "POST"},
    )
    assert preflight.status in (404, 405)


@pytest.fixture
async def cors_client(aiohttp_client: AiohttpClient, settings: Settings) -> Client:
    allowed = settings.model_copy(update={"cors_origins": ["https://app.example"]})
    return await aiohttp_client(create_app(allowed))


async def test_cors_allows_only_the_listed_origins(cors_client: Client) -> None:
    allowed = await cors_client.get(ITEMS, headers={"Origin": "https://app.example"})
    assert allowed.headers["Access-Control-Allow-Origin"] == "https://app.example"
    assert "ETag" in allowed.headers["Access-Control-Expose-Headers"]
    other = await cors_client.get(ITEMS, headers={"Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in other.headers


async def test_cors_preflight_answers_the_listed_origin(cors_client: Client) -> None:
    headers = {
        "Access-Control-Request-Method": "PATCH",
        "Access-Control-Request-Headers": "If-Match",
    }
    ok = await cors_client.options(
        f"{ITEMS}/1", headers={"Origin": "https://app.example", **headers}
    )
    assert ok.status == 200
    assert "PATCH" in ok.headers["Access-Control-Allow-Methods"]
    refused = await cors_client.options(
        f"{ITEMS}/1", headers={"Origin": "https://evil.example", **headers}
    )
    assert refused.status == 403


def test_cors_origins_are_read_comma_separated(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CORS_ORIGINS", "https://a.example, https://b.example")
    settings = Settings(_env_file=None)
    assert settings.cors_origins == ["https://a.example", "https://b.example"]
