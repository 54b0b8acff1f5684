"""Migrations: reversible, and in step with the models."""

import asyncio
from collections.abc import Callable
from typing import TypeVar

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection, inspect
from sqlalchemy.ext.asyncio import create_async_engine

from {{ cookiecutter.package_name }}.db import downgrade, migrate
from {{ cookiecutter.package_name }}.models import metadata

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


async def test_upgrade_downgrade_upgrade(empty_database_url: str) -> None:
    await asyncio.to_thread(migrate, empty_database_url)
    assert "items" in await inspect_database(empty_database_url, _tables)
    await asyncio.to_thread(downgrade, empty_database_url, "base")
    assert "items" not in await inspect_database(empty_database_url, _tables)
    await asyncio.to_thread(migrate, empty_database_url)
    assert "items" in await inspect_database(empty_database_url, _tables)


async def test_models_and_migrations_agree(empty_database_url: str) -> None:
    await asyncio.to_thread(migrate, empty_database_url)
    assert await inspect_database(empty_database_url, _differences) == []
