{% if cookiecutter.database != "none" -%}
"""The databases of a bench run: made fresh and migrated, counted, removed at the end."""
{%- else -%}
"""Where a bench run keeps its items: nowhere but the service's memory."""
{%- endif %}
{% if cookiecutter.database == "postgresql" %}
import asyncio
{%- endif %}
import contextlib
{%- if cookiecutter.database != "none" %}
import os
import subprocess
import sys
{%- endif %}
{%- if cookiecutter.database == "postgresql" %}
import uuid
{%- endif %}
from collections.abc import Iterator
from pathlib import Path
{%- if cookiecutter.database == "postgresql" %}
from typing import Any

from servers import PROJECT, Server, service_settings
from sqlalchemy import make_url
from sqlalchemy.ext.asyncio import create_async_engine
{%- elif cookiecutter.database == "sqlite" %}

from servers import PROJECT, Server
{%- else %}

from servers import Server
{%- endif %}

PACKAGE = "{{ cookiecutter.package_name }}"
{%- if cookiecutter.database == "sqlite" %}


@contextlib.contextmanager
def database(folder: Path, name: str) -> Iterator[dict[str, str]]:
    """A fresh SQLite file in `folder`, migrated; yields the environment that names it."""
    env = {"DATABASE_URL": f"sqlite+aiosqlite:///{folder / name}.sqlite3"}
    migrate(env)
    yield env


def sessions(_server: Server) -> int | None:
    """A SQLite file has no sessions to count."""
    return None
{%- elif cookiecutter.database == "postgresql" %}


async def _autocommit(server_url: str, statement: str, *arguments: str) -> Any:
    engine = create_async_engine(server_url, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as connection:
            result = await connection.exec_driver_sql(statement, arguments)
            return result.scalar() if result.returns_rows else None
    finally:
        await engine.dispose()


def sessions(server: Server) -> int | None:
    """Sessions opened so far on the server's database (PostgreSQL counts them)."""
    if "DATABASE_URL" not in server.database:
        return None
    url = make_url(server.database["DATABASE_URL"])
    count = asyncio.run(
        _autocommit(
            url.set(database="postgres").render_as_string(hide_password=False),
            "SELECT sessions FROM pg_stat_database WHERE datname = $1",
            str(url.database),
        )
    )
    return int(count or 0)


@contextlib.contextmanager
def database(_folder: Path, purpose: str) -> Iterator[dict[str, str]]:
    """A new database on the server of DATABASE_URL, migrated, dropped at the end."""
    server_url = service_settings().database_url.get_secret_value()
    name = f"bench_{purpose}_{uuid.uuid4().hex[:12]}"
    asyncio.run(_autocommit(server_url, f'CREATE DATABASE "{name}"'))
    try:
        url = (
            make_url(server_url)
            .set(database=name)
            .render_as_string(hide_password=False)
        )
        env = {"DATABASE_URL": url}
        migrate(env)
        yield env
    finally:
        asyncio.run(
            _autocommit(server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        )
{%- else %}


@contextlib.contextmanager
def database(_folder: Path, _name: str) -> Iterator[dict[str, str]]:
    """No database: the items live in each service's memory."""
    yield {}


def sessions(_server: Server) -> int | None:
    """No database, no sessions to count."""
    return None
{%- endif %}
{%- if cookiecutter.database != "none" %}


def migrate(env: dict[str, str]) -> None:
    """Bring the database named in `env` to the latest schema."""
    subprocess.run(
        [sys.executable, "-m", PACKAGE, "migrate"],
        cwd=PROJECT,
        env={**os.environ, **env},
        check=True,
        capture_output=True,
    )
{%- endif %}
