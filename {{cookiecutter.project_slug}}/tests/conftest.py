"""Fixtures: real services, settings pointing at them, and a client of the real app per test.

Locally a service that cannot be reached skips the tests that need it, with the reason; in CI
(CI=true) it fails them, so that a broken pipeline never passes by skipping. Blocking calls in
the event loop fail the test (blockbuster), so a handler that blocks is caught here rather
than in production.
"""
{% if cookiecutter.database == "postgresql" or cookiecutter.__redis or cookiecutter.auth == "jwt" %}
import asyncio
{%- endif %}
import os
{%- if cookiecutter.database == "sqlite" %}
import sqlite3
{%- endif %}
{%- if cookiecutter.__redis %}
import uuid
{%- endif %}
from collections.abc import {% if cookiecutter.database != "none" %}AsyncIterator, Callable, {% endif %}Iterator
{%- if cookiecutter.database != "none" %}
from contextlib import AbstractContextManager, contextmanager
{%- endif %}
{%- if cookiecutter.database == "sqlite" %}
from pathlib import Path
{%- endif %}
from typing import NoReturn
from urllib.parse import urlsplit

import pytest
{%- if cookiecutter.auth == "jwt" %}
from aiohttp import web
from aiohttp.test_utils import TestClient
from argon2 import PasswordHasher
{%- endif %}
from blockbuster import BlockBuster, {% if cookiecutter.auth == "jwt" %}BlockBusterFunction, {% endif %}blockbuster_ctx
{%- if cookiecutter.database != "none" or cookiecutter.__redis or cookiecutter.use_sentry %}
from pydantic import SecretStr
{%- endif %}
from pytest_aiohttp import AiohttpClient
{%- if cookiecutter.__redis %}
from redis.asyncio import Redis
from redis.exceptions import RedisError
{%- endif %}
{%- if cookiecutter.database == "postgresql" %}
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
{%- endif %}

from {{ cookiecutter.package_name }}.app import create_app
{%- if cookiecutter.database != "none" %}
from {{ cookiecutter.package_name }}.db import (
    Database,
    connect,
    database_key,
    migrate,
)
from {{ cookiecutter.package_name }}.models import metadata
{%- endif %}
from {{ cookiecutter.package_name }}.settings import Settings

{% if cookiecutter.auth == "jwt" %}from .accounts import SignedInClient, add_test_user, add_test_user_to
{% endif %}{% if cookiecutter.database == "postgresql" %}from .databases import create_database, drop_database
{% endif %}from .helpers import Client
{%- if cookiecutter.task_queue == "arq" %}
from .worker_process import forget_keys
{%- endif %}
{%- if cookiecutter.database == "postgresql" or cookiecutter.__redis %}
{% endif %}
{%- if cookiecutter.database == "postgresql" %}
DEFAULT_TEST_DATABASE_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
{%- endif %}
{%- if cookiecutter.__redis %}
DEFAULT_TEST_REDIS_URL = "redis://127.0.0.1:6379/0"
{%- endif %}


def require(service: str, url: str, problem: BaseException) -> NoReturn:
    """Skip (locally) or fail (CI=true) because `service` at `url` cannot be used."""
    where = urlsplit(url).netloc.rpartition("@")[2]
    message = (
        f"{service} at {where} is unreachable ({type(problem).__name__}: {problem})"
    )
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{message}; CI=true, so this fails instead of skipping")
    pytest.skip(message)
{%- if cookiecutter.database == "sqlite" %}


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A SQLite file of this test session, migrated to the latest revision."""
    url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite3'}"
    migrate(url)
{%- if cookiecutter.auth == "jwt" %}
    asyncio.run(add_test_user_to(Settings(_env_file=None, database_url=SecretStr(url))))
{%- endif %}
    return url


@pytest.fixture
def empty_database_url(tmp_path: Path) -> str:
    """A SQLite file of this test only, not made yet."""
    return f"sqlite+aiosqlite:///{tmp_path / 'empty.sqlite3'}"


@pytest.fixture
def broken_database_url(tmp_path: Path) -> str:
    """A file that is not a SQLite database: every connection to it fails."""
    path = tmp_path / "broken.sqlite3"
    path.write_bytes(b"this is not a database" * 100)
    return f"sqlite+aiosqlite:///{path}"


@pytest.fixture
def block_writes(database_url: str) -> Callable[[], AbstractContextManager[None]]:
    """While its context lasts, another connection holds the file's write lock: writes wait.

    For sync tests and fixtures: the lock is taken with the blocking sqlite3 module.
    """

    @contextmanager
    def blocked() -> Iterator[None]:
        holder = sqlite3.connect(database_url.removeprefix("sqlite+aiosqlite:///"))
        holder.isolation_level = None
        holder.execute("BEGIN EXCLUSIVE")
        try:
            yield
        finally:
            holder.execute("ROLLBACK")
            holder.close()

    return blocked
{%- elif cookiecutter.database == "postgresql" %}


@pytest.fixture(scope="session")
def database_url() -> Iterator[str]:
    """A new database of this session on the TEST_DATABASE_URL server, migrated, then dropped.

    A database of its own lets several test runs share one server at the same time.
    """
    server = os.environ.get("TEST_DATABASE_URL", DEFAULT_TEST_DATABASE_URL)
    try:
        url = create_database(server)
    except (OSError, SQLAlchemyError) as exc:
        require("PostgreSQL", server, exc)
    migrate(url)
{%- if cookiecutter.auth == "jwt" %}
    asyncio.run(add_test_user_to(Settings(_env_file=None, database_url=SecretStr(url))))
{%- endif %}
    yield url
    drop_database(url)


@pytest.fixture
def empty_database_url(database_url: str) -> Iterator[str]:
    """An empty database of this test only on the test server, dropped afterwards."""
    url = create_database(database_url)
    yield url
    drop_database(url)


@pytest.fixture
def broken_database_url() -> str:
    """A database server that does not answer: nothing listens on port 1 of loopback."""
    return "postgresql+asyncpg://postgres@127.0.0.1:1/test"


@pytest.fixture
def block_writes(database_url: str) -> Callable[[], AbstractContextManager[None]]:
    """While its context lasts, another session locks the items table: writes wait.

    For sync tests and fixtures: the lock is taken in an event loop of its own.
    """

    async def lock(engine: AsyncEngine) -> AsyncConnection:
        connection = await engine.connect()
        await connection.begin()
        await connection.execute(text("LOCK TABLE items IN EXCLUSIVE MODE"))
        return connection

    async def release(engine: AsyncEngine, connection: AsyncConnection) -> None:
        await connection.rollback()
        await connection.close()
        await engine.dispose()

    @contextmanager
    def blocked() -> Iterator[None]:
        engine = create_async_engine(database_url)
        with asyncio.Runner() as holder:
            connection = holder.run(lock(engine))
            try:
                yield
            finally:
                holder.run(release(engine, connection))

    return blocked
{%- endif %}
{%- if cookiecutter.__redis %}


async def _ping(url: str) -> None:
    client = Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2)
    try:
        await client.ping()
    finally:
        await client.aclose()


@pytest.fixture(scope="session")
def redis_url() -> str:
    """TEST_REDIS_URL, once it answers PING."""
    url = os.environ.get("TEST_REDIS_URL", DEFAULT_TEST_REDIS_URL)
    try:
        asyncio.run(_ping(url))
    except (RedisError, OSError) as exc:
        require("Redis", url, exc)
    return url
{%- endif %}


@pytest.fixture
def settings(
{%- if cookiecutter.database != "none" %}database_url: str{% endif %}
{%- if cookiecutter.database != "none" and cookiecutter.__redis %}, {% endif %}
{%- if cookiecutter.__redis %}redis_url: str{% endif %}) -> Settings:
    """Settings for tests: the test services, console logs, no `.env` file."""
    return Settings(
        _env_file=None,
{%- if cookiecutter.database != "none" %}
        database_url=SecretStr(database_url),
{%- endif %}
{%- if cookiecutter.__redis %}
        redis_url=SecretStr(redis_url),
        # Keys of this test only: runs sharing one Redis never see each other's data.
        cache_prefix=f"test-{uuid.uuid4().hex}:",
{%- endif %}
{%- if cookiecutter.use_tracing %}
        # Whatever the environment says, tests export no spans (test_tracing.py keeps its own).
        otel_exporter_otlp_endpoint="",
        otel_exporter_otlp_traces_endpoint="",
{%- endif %}
{%- if cookiecutter.use_sentry %}
        # Nor do they report to Sentry (test_sentry.py keeps its events in memory).
        sentry_dsn=SecretStr(""),
{%- endif %}
{%- if cookiecutter.auth == "jwt" %}
        jwt_secret=SecretStr("a secret of the tests, long enough for HS256"),
{%- endif %}
{%- if cookiecutter.auth == "jwt" and cookiecutter.__redis %}
        # test_auth_throttle.py turns it on; the other tests log in as often as they like.
        login_rate_limit=0,
{%- endif %}
        log_format="console",
    )
{%- if cookiecutter.task_queue == "arq" %}


@pytest.fixture(autouse=True)
def forget_jobs(request: pytest.FixtureRequest) -> Iterator[None]:
    """After a test with settings, delete the jobs and queue its app left in Redis.

    Nothing expires a queue by itself, and no worker empties the queues of finished tests.
    """
    used = "settings" in request.fixturenames
    settings: Settings | None = request.getfixturevalue("settings") if used else None
    yield
    if settings is not None:
        forget_keys(settings.redis_url.get_secret_value(), settings.cache_prefix)
{%- endif %}


@pytest.fixture(autouse=True)
def blockbuster(request: pytest.FixtureRequest) -> Iterator[BlockBuster | None]:
    """Fail any test in which the event loop makes a blocking call.

    Tests marked `loop_may_block` opt out: they run code that blocks a loop of its own.
    """
    if request.node.get_closest_marker("loop_may_block"):
        yield None
        return
    with blockbuster_ctx() as detector:
{%- if cookiecutter.database == "postgresql" %}
        # Once per new connection: asyncpg looks for its client files (~/.pgpass,
        # ~/.postgresql/*) while it parses the connection parameters.
        for function in detector.functions.values():
            function.can_block_in(
                "asyncpg/connect_utils.py", "_parse_connect_dsn_and_args"
            )
{%- endif %}
{%- if cookiecutter.auth == "jwt" %}
        # Tens of milliseconds of CPU each: hashing a password on the loop would stall it.
        for name in ("hash", "verify"):
            function = BlockBusterFunction(PasswordHasher, name)
            detector.functions[f"argon2.PasswordHasher.{name}"] = function.activate()
{%- endif %}
        yield detector


{%- if cookiecutter.database != "none" %}


async def empty(database: Database) -> None:
    """Delete every row of every table (live servers of other tests share the database){% if cookiecutter.auth == "jwt" %}.

    The user whose token the test clients send (`SignedInClient`) is made again.
    """{% else %}."""{% endif %}
    async with database.transaction() as transaction:
        for table in reversed(metadata.sorted_tables):
            await transaction.execute(table.delete())
{%- if cookiecutter.auth == "jwt" %}
    await add_test_user(database)


@pytest.fixture
def aiohttp_client_cls() -> type[TestClient[web.Request, web.Application]]:
    """The class of every test client: signed in as the tests' user."""
    return SignedInClient


@pytest.fixture
def anonymous(client: Client) -> Client:
    """The test client without the tests' user's token."""
    del client.session.headers["Authorization"]
    return client
{%- endif %}


@pytest.fixture
async def database(settings: Settings) -> AsyncIterator[Database]:
    """The service's database, open and empty, outside of an app; emptied again after."""
    opened = connect(settings)
    await opened.open()
    await empty(opened)
    yield opened
    await empty(opened)
    await opened.close()
{%- endif %}


@pytest.fixture
{%- if cookiecutter.database == "none" %}
async def client(aiohttp_client: AiohttpClient, settings: Settings) -> Client:
    """A client of a new app, with an empty in-memory repository."""
    return await aiohttp_client(create_app(settings))
{%- else %}
async def client(
    aiohttp_client: AiohttpClient, settings: Settings
) -> AsyncIterator[Client]:
    """A client of the real app on empty tables, emptied again after the test."""
    app = create_app(settings)
    client = await aiohttp_client(app)
    await empty(app[database_key])
    yield client
    await empty(app[database_key])
{%- endif %}
