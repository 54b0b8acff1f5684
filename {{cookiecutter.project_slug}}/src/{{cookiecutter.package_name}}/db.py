"""The database: engine and sessions as a cleanup context, readiness probe, migrations."""

import asyncio
import logging
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
{%- if cookiecutter.database == "sqlite" %}
from pathlib import Path
from typing import Any
{%- endif %}

from aiohttp import web
from alembic import command
from alembic.config import Config
from sqlalchemy import {% if cookiecutter.database == "sqlite" %}event, make_url, {% endif %}text
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as SQLAlchemyTimeoutError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from .problems import ProblemError
from .settings import Settings, settings_key

log = logging.getLogger(__name__)

engine_key = web.AppKey("engine", AsyncEngine)
sessionmaker_key = web.AppKey("sessionmaker", async_sessionmaker[AsyncSession])

MIGRATIONS = "{{ cookiecutter.package_name }}:migrations"


def create_engine(settings: Settings) -> AsyncEngine:
    """Make the engine for DATABASE_URL with the pool and connection settings it needs."""
{%- if cookiecutter.database == "sqlite" %}
    engine = create_async_engine(
        settings.database_url.get_secret_value(), connect_args={"timeout": settings.db_timeout}
    )
    event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
    return engine


def _sqlite_pragmas(dbapi_connection: Any, _record: object) -> None:
    """WAL lets readers run beside a writer; busy_timeout waits for locks instead of failing."""
    cursor = dbapi_connection.cursor()
    for pragma in (
        "journal_mode=WAL",
        "synchronous=NORMAL",
        "foreign_keys=ON",
        "busy_timeout=5000",
    ):
        cursor.execute(f"PRAGMA {pragma}")
    cursor.close()


def ensure_sqlite_folder(url: str) -> None:
    """Create the folder of a SQLite file so that the first start does not fail on it."""
    parsed = make_url(url)
    if parsed.database not in (None, "", ":memory:"):
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
{%- else %}
    return create_async_engine(
        settings.database_url.get_secret_value(),
        # A connection the server closed (restart, failover) is noticed and replaced.
        pool_pre_ping=True,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
        pool_timeout=settings.db_timeout,
        connect_args={
            "timeout": settings.db_timeout,
            "server_settings": {
                "statement_timeout": str(int(settings.db_statement_timeout * 1000)),
            },
        },
    )
{%- endif %}


async def database_context(app: web.Application) -> AsyncIterator[None]:
    """Open the engine once for the app's life and dispose of its pool on shutdown."""
    settings = app[settings_key]
    engine = create_engine(settings)
    app[engine_key] = engine
    app[sessionmaker_key] = async_sessionmaker(engine, expire_on_commit=False)
    yield
    await engine.dispose()


@contextmanager
def unavailable_as_503() -> Iterator[None]:
    """Turn a database that cannot be reached or does not answer in time into a 503.

    Errors that say the request is wrong (constraints, for one) pass through unchanged.
    """
    try:
        yield
    except (OperationalError, InterfaceError, SQLAlchemyTimeoutError, OSError, TimeoutError) as exc:
        log.warning("database unavailable: %s", type(exc).__name__)
        raise ProblemError(
            503, "The database is unavailable; try again shortly.", headers={"Retry-After": "5"}
        ) from exc


async def ping(engine: AsyncEngine, within: float) -> None:
    """Run `SELECT 1`; raise if the database does not answer within `within` seconds."""
    async with asyncio.timeout(within), engine.connect() as connection:
        await connection.execute(text("SELECT 1"))


def alembic_config(database_url: str) -> Config:
    """Alembic configuration pointing at the packaged migrations and DATABASE_URL."""
    config = Config()
    config.set_main_option("script_location", MIGRATIONS)
    config.attributes["database_url"] = database_url
    return config


def migrate(database_url: str, revision: str = "head") -> None:
    """Upgrade the schema to `revision` (blocking: call it before the loop starts)."""
{%- if cookiecutter.database == "sqlite" %}
    ensure_sqlite_folder(database_url)
{%- endif %}
    command.upgrade(alembic_config(database_url), revision)


def downgrade(database_url: str, revision: str) -> None:
    """Downgrade the schema to `revision` (blocking)."""
    command.downgrade(alembic_config(database_url), revision)
