"""The database component: the data layer the repositories use, opened once per app.

`app[database_key]` is a `Database` (base.py): `fetch_all`, `fetch_one`, `fetch_value` and
`execute` run SQLAlchemy Core statements, `transaction()` groups them. Migrations are
Alembic's (migrations.py).
"""

import logging
from collections.abc import AsyncIterator
from functools import partial

from aiohttp import web

from ..health import register_probe
from ..problems import ProblemError, register_problems
from ..settings import Settings, settings_key
from .base import ConstraintError, Database, DatabaseError, Queries, UnavailableError
from .migrations import downgrade, upgrade
{%- if cookiecutter.database == "sqlite" %}
from .sqlite import SQLiteDatabase, make_folder, sqlite_path
{%- else %}
from .postgres import PostgresDatabase
{%- endif %}
from .statements import Row

__all__ = [
    "ConstraintError",
    "Database",
    "DatabaseError",
    "Queries",
    "Row",
    "UnavailableError",
    "connect",
    "database_context",
    "database_key",
    "downgrade",
    "migrate",
    "setup_database",
]

log = logging.getLogger(__name__)
database_key = web.AppKey("database", Database)


def connect(settings: Settings) -> Database:
    """The database of DATABASE_URL, to be opened."""
    url = settings.database_url.get_secret_value()
{%- if cookiecutter.database == "sqlite" %}
    return SQLiteDatabase(sqlite_path(url), settings.db_pool_size, settings.db_timeout)
{%- else %}
    return PostgresDatabase(
        url, settings.db_pool_size, settings.db_timeout, settings.db_statement_timeout
    )
{%- endif %}


def _unavailable(error: UnavailableError) -> ProblemError:
    log.warning("database unavailable: %s", error)
    return ProblemError(
        503,
        "The database is unavailable; try again shortly.",
        headers={"Retry-After": "5"},
    )


def migrate(database_url: str, revision: str = "head") -> None:
    """Upgrade the schema to `revision` (blocking: before the loop starts, or in a thread)."""
{%- if cookiecutter.database == "sqlite" %}
    make_folder(database_url)
{%- endif %}
    upgrade(database_url, revision)


async def database_context(app: web.Application) -> AsyncIterator[None]:
    """Open the database for the app's life; close it once the requests are done."""
    settings = app[settings_key]
    database = connect(settings)
    await database.open()
    app[database_key] = database
    register_probe(app, "database", partial(database.ping, settings.db_timeout))
    yield
    await database.close()


def setup_database(app: web.Application) -> None:
    """The database, open while the app runs; its outages answered 503."""
    app.cleanup_ctx.append(database_context)
    register_problems(app, {UnavailableError: _unavailable})
