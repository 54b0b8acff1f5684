"""Alembic environment: runs the migrations over an async engine (the driver of DATABASE_URL)."""

import asyncio

from alembic import context
from sqlalchemy import pool
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

import {{ cookiecutter.package_name }}.app  # noqa: F401 - its components' tables join the metadata
from {{ cookiecutter.package_name }} import models, settings

config = context.config
target_metadata = models.metadata


def database_url() -> str:
    """The URL given by the caller (db.migrate), else DATABASE_URL from the settings."""
    url = config.attributes.get("database_url")
    return str(url) if url else settings.Settings().database_url.get_secret_value()


def run_offline() -> None:
    """Write the SQL to stdout instead of running it (`alembic upgrade head --sql`)."""
    context.configure(
        url=database_url(),
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_with(connection: Connection) -> None:
    """Run the migrations on one connection; batch mode lets SQLite alter tables."""
    context.configure(
        connection=connection, target_metadata=target_metadata, render_as_batch=True
    )
    with context.begin_transaction():
        context.run_migrations()


async def run_online(url: str) -> None:
    """Connect without a pool, migrate, and close."""
    engine = create_async_engine(url, poolclass=pool.NullPool)
    async with engine.connect() as connection:
        await connection.run_sync(run_with)
    await engine.dispose()


if context.is_offline_mode():
    run_offline()
else:
    asyncio.run(run_online(database_url()))
