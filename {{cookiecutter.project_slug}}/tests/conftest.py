"""Fixtures: real services, settings pointing at them, and a client of the real app per test.

Blocking calls in the event loop fail the test (blockbuster), so a handler that blocks is
caught here rather than in production.
"""
{% if cookiecutter.database == "postgresql" or cookiecutter.use_redis %}
import os
{%- endif %}
{%- if cookiecutter.use_redis %}
import uuid
{%- endif %}
from collections.abc import {% if cookiecutter.database != "none" %}AsyncIterator, {% endif %}Iterator

import pytest
from blockbuster import BlockBuster, blockbuster_ctx
{%- if cookiecutter.database != "none" or cookiecutter.use_redis or cookiecutter.use_sentry %}
from pydantic import SecretStr
{%- endif %}
from pytest_aiohttp import AiohttpClient
{%- if cookiecutter.database == "postgresql" %}
from sqlalchemy.exc import SQLAlchemyError
{%- endif %}

from {{ cookiecutter.package_name }}.app import create_app
{%- if cookiecutter.database != "none" %}
from {{ cookiecutter.package_name }}.db import database_key, migrate
from {{ cookiecutter.package_name }}.models import metadata
{%- endif %}
from {{ cookiecutter.package_name }}.settings import Settings

from .helpers import Client
{%- if cookiecutter.database == "postgresql" and cookiecutter.use_redis %}
from .services import create_database, drop_database, redis_reachable, require
{%- elif cookiecutter.database == "postgresql" %}
from .services import create_database, drop_database, require
{%- elif cookiecutter.use_redis %}
from .services import redis_reachable, require
{%- endif %}
{%- if cookiecutter.task_queue == "arq" %}
from .worker_process import forget_keys
{%- endif %}
{%- if cookiecutter.database == "postgresql" or cookiecutter.use_redis %}
{% endif %}
{%- if cookiecutter.database == "postgresql" %}
DEFAULT_TEST_DATABASE_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
{%- endif %}
{%- if cookiecutter.use_redis %}
DEFAULT_TEST_REDIS_URL = "redis://127.0.0.1:6379/0"
{%- endif %}
{%- if cookiecutter.database == "sqlite" %}


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A SQLite file of this test session, migrated to the latest revision."""
    url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite3'}"
    migrate(url)
    return url
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
    yield url
    drop_database(url)
{%- endif %}
{%- if cookiecutter.use_redis %}


@pytest.fixture(scope="session")
def redis_url() -> str:
    """TEST_REDIS_URL, once it answers PING."""
    url = os.environ.get("TEST_REDIS_URL", DEFAULT_TEST_REDIS_URL)
    if (problem := redis_reachable(url)) is not None:
        require("Redis", url, problem)
    return url
{%- endif %}


@pytest.fixture
def settings(
{%- if cookiecutter.database != "none" %}database_url: str{% endif %}
{%- if cookiecutter.database != "none" and cookiecutter.use_redis %}, {% endif %}
{%- if cookiecutter.use_redis %}redis_url: str{% endif %}) -> Settings:
    """Settings for tests: the test services, console logs, no `.env` file."""
    return Settings(
        _env_file=None,
{%- if cookiecutter.database != "none" %}
        database_url=SecretStr(database_url),
{%- endif %}
{%- if cookiecutter.use_redis %}
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
{%- if cookiecutter.database == "sqlite" %}
        # Once per engine, at start-up: SQLAlchemy makes the SQLite file name absolute.
        detector.functions["os.path.abspath"].can_block_in(
            "sqlalchemy/dialects/sqlite/pysqlite.py", "create_connect_args"
        )
{%- elif cookiecutter.database == "postgresql" %}
        # Once per new pooled connection: asyncpg looks for its client files (~/.pgpass,
        # ~/.postgresql/*) while it parses the connection parameters.
        for function in detector.functions.values():
            function.can_block_in("asyncpg/connect_utils.py", "_parse_connect_dsn_and_args")
{%- endif %}
        yield detector


@pytest.fixture
{%- if cookiecutter.database == "none" %}
async def client(aiohttp_client: AiohttpClient, settings: Settings) -> Client:
    """A client of a new app, with an empty in-memory repository."""
    return await aiohttp_client(create_app(settings))
{%- else %}
async def client(aiohttp_client: AiohttpClient, settings: Settings) -> AsyncIterator[Client]:
    """A client of the real app; the tables are emptied after each test."""
    app = create_app(settings)
    client = await aiohttp_client(app)
    yield client
    async with app[database_key].transaction() as transaction:
        for table in reversed(metadata.sorted_tables):
            await transaction.execute(table.delete())
{%- endif %}
