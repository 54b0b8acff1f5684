"""Databases of the tests on the PostgreSQL server: one per session or test, dropped after."""

import asyncio
import uuid

from sqlalchemy import make_url
from sqlalchemy.ext.asyncio import create_async_engine


async def _autocommit(server_url: str, statement: str) -> None:
    engine = create_async_engine(server_url, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as connection:
            await connection.exec_driver_sql(statement)
    finally:
        await engine.dispose()


def create_database(server_url: str) -> str:
    """Create an empty database on the server of `server_url`; return its URL."""
    name = f"test_{uuid.uuid4().hex[:16]}"
    asyncio.run(_autocommit(server_url, f'CREATE DATABASE "{name}"'))
    return make_url(server_url).set(database=name).render_as_string(hide_password=False)


def drop_database(url: str) -> None:
    """Drop the database of `url`, closing any connection still open to it."""
    parsed = make_url(url)
    server = parsed.set(database="postgres").render_as_string(hide_password=False)
    asyncio.run(_autocommit(server, f'DROP DATABASE "{parsed.database}" WITH (FORCE)'))
