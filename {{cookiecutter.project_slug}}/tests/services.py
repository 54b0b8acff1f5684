"""The real services the tests use: reach them, or say clearly why a test cannot run.

Locally a missing service skips the tests that need it, with the reason; in CI (CI=true) it
fails them, so that a broken pipeline never passes by skipping.
"""
{% if cookiecutter.database == "postgresql" or cookiecutter.use_redis %}
import asyncio
{%- endif %}
import os
{%- if cookiecutter.database == "postgresql" %}
import uuid
{%- endif %}
from typing import NoReturn
from urllib.parse import urlsplit

import pytest
{%- if cookiecutter.use_redis %}
from redis.asyncio import Redis
from redis.exceptions import RedisError
{%- endif %}
{%- if cookiecutter.database == "postgresql" %}
from sqlalchemy import make_url
from sqlalchemy.ext.asyncio import create_async_engine
{%- endif %}


def require(service: str, url: str, problem: BaseException) -> NoReturn:
    """Skip (locally) or fail (CI=true) because `service` at `url` cannot be used."""
    where = urlsplit(url).netloc.rpartition("@")[2]
    message = f"{service} at {where} is unreachable ({type(problem).__name__}: {problem})"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{message}; CI=true, so this fails instead of skipping")
    pytest.skip(message)
{%- if cookiecutter.database == "postgresql" %}


async def _execute_autocommit(server_url: str, statement: str) -> None:
    engine = create_async_engine(server_url, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as connection:
            await connection.exec_driver_sql(statement)
    finally:
        await engine.dispose()


def create_database(server_url: str) -> str:
    """Create an empty database on the server of `server_url`; return its URL."""
    name = f"test_{uuid.uuid4().hex[:16]}"
    asyncio.run(_execute_autocommit(server_url, f'CREATE DATABASE "{name}"'))
    return make_url(server_url).set(database=name).render_as_string(hide_password=False)


def drop_database(url: str) -> None:
    """Drop the database of `url`, closing any connection still open to it."""
    parsed = make_url(url)
    server = parsed.set(database="postgres").render_as_string(hide_password=False)
    asyncio.run(_execute_autocommit(server, f'DROP DATABASE "{parsed.database}" WITH (FORCE)'))
{%- endif %}
{%- if cookiecutter.use_redis %}


async def _ping(url: str) -> None:
    client = Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2)
    try:
        await client.ping()
    finally:
        await client.aclose()


def redis_reachable(url: str) -> RedisError | OSError | None:
    """None when Redis at `url` answers PING, else the error."""
    try:
        asyncio.run(_ping(url))
    except (RedisError, OSError) as exc:
        return exc
    return None
{%- endif %}
