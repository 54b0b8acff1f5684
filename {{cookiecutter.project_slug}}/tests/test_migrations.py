"""Migrations: reversible, and in step with the models."""

import asyncio
{%- if cookiecutter.database == "postgresql" %}
from collections.abc import Callable, Iterator
{%- else %}
from collections.abc import Callable
{%- endif %}
{%- if cookiecutter.database == "sqlite" %}
from pathlib import Path
{%- endif %}
from typing import TypeVar

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection, inspect
from sqlalchemy.ext.asyncio import create_async_engine

from {{ cookiecutter.package_name }}.db import downgrade, migrate
from {{ cookiecutter.package_name }}.models import metadata
{%- if cookiecutter.database == "postgresql" %}

from .services import create_database, drop_database
{%- endif %}


@pytest.fixture
{%- if cookiecutter.database == "sqlite" %}
def fresh_url(tmp_path: Path) -> str:
    """An empty SQLite file."""
    return f"sqlite+aiosqlite:///{tmp_path / 'fresh.sqlite3'}"
{%- elif cookiecutter.database == "postgresql" %}
def fresh_url(database_url: str) -> Iterator[str]:
    """An empty database of its own on the test server, dropped afterwards."""
    url = create_database(database_url)
    yield url
    drop_database(url)
{%- endif %}


T = TypeVar("T")

# Alembic's async environment runs the migration scripts in a loop of its own, in a worker
# thread here, reading files as it goes: by design, not a bug in the service.
pytestmark = pytest.mark.loop_may_block


def _tables(connection: Connection) -> set[str]:
    return set(inspect(connection).get_table_names())


def _differences(connection: Connection) -> list[object]:
    return list(compare_metadata(MigrationContext.configure(connection), metadata))


async def inspect_database(url: str, look: Callable[[Connection], T]) -> T:
    engine = create_async_engine(url)
    try:
        async with engine.connect() as connection:
            return await connection.run_sync(look)
    finally:
        await engine.dispose()


async def test_upgrade_downgrade_upgrade(fresh_url: str) -> None:
    await asyncio.to_thread(migrate, fresh_url)
    assert "items" in await inspect_database(fresh_url, _tables)
    await asyncio.to_thread(downgrade, fresh_url, "base")
    assert "items" not in await inspect_database(fresh_url, _tables)
    await asyncio.to_thread(migrate, fresh_url)
    assert "items" in await inspect_database(fresh_url, _tables)


async def test_models_and_migrations_agree(fresh_url: str) -> None:
    await asyncio.to_thread(migrate, fresh_url)
    assert await inspect_database(fresh_url, _differences) == []
