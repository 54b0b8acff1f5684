"""Fixtures: a migrated real database, settings pointing at it, and a client per test.

Every test starts from empty tables. Blocking calls in the event loop fail the test
(blockbuster), so a handler that blocks is caught here rather than in production.
"""
{% if cookiecutter.database == "postgresql" %}
import os
{%- endif %}
from collections.abc import AsyncIterator, Iterator

import pytest
from blockbuster import BlockBuster, blockbuster_ctx
from pydantic import SecretStr
from pytest_aiohttp import AiohttpClient

from {{ cookiecutter.package_name }}.app import create_app
from {{ cookiecutter.package_name }}.db import migrate, sessionmaker_key
from {{ cookiecutter.package_name }}.models import Base
from {{ cookiecutter.package_name }}.settings import Settings

from .helpers import Client
{%- if cookiecutter.database == "postgresql" %}

DEFAULT_TEST_DATABASE_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
{%- endif %}


@pytest.fixture(scope="session")
{%- if cookiecutter.database == "sqlite" %}
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A SQLite file of this test session, migrated to the latest revision."""
    url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite3'}"
{%- elif cookiecutter.database == "postgresql" %}
def database_url() -> str:
    """TEST_DATABASE_URL (a real PostgreSQL), migrated to the latest revision."""
    url = os.environ.get("TEST_DATABASE_URL", DEFAULT_TEST_DATABASE_URL)
{%- endif %}
    migrate(url)
    return url


@pytest.fixture
def settings(database_url: str) -> Settings:
    """Settings for tests: the test database, console logs, no `.env` file."""
    return Settings(
        _env_file=None,
        database_url=SecretStr(database_url),
        log_format="console",
    )


@pytest.fixture(autouse=True)
def blockbuster(request: pytest.FixtureRequest) -> Iterator[BlockBuster | None]:
    """Fail any test in which the event loop makes a blocking call.

    Tests marked `loop_may_block` opt out: Alembic reads its scripts inside its own loop.
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
async def client(aiohttp_client: AiohttpClient, settings: Settings) -> AsyncIterator[Client]:
    """A client of the real app; the tables are emptied after each test."""
    app = create_app(settings)
    client = await aiohttp_client(app)
    yield client
    async with app[sessionmaker_key]() as session:
        for table in reversed(Base.metadata.sorted_tables):
            await session.execute(table.delete())
        await session.commit()
