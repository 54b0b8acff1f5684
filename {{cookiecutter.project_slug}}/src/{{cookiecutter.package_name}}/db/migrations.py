"""Alembic, run from the service: the packaged migrations against DATABASE_URL.

Blocking: call these before the event loop starts (the `migrate` command), or in a thread.
"""

{%- if cookiecutter.database == "sqlite" %}

from pathlib import Path
{%- endif %}

from alembic import command
from alembic.config import Config
{%- if cookiecutter.database == "sqlite" %}
from sqlalchemy import make_url
{%- endif %}

MIGRATIONS = "{{ cookiecutter.package_name }}:migrations"


def alembic_config(database_url: str) -> Config:
    """Alembic configuration pointing at the packaged migrations and DATABASE_URL."""
    config = Config()
    config.set_main_option("script_location", MIGRATIONS)
    config.attributes["database_url"] = database_url
    return config


def migrate(database_url: str, revision: str = "head") -> None:
    """Upgrade the schema to `revision`."""
{%- if cookiecutter.database == "sqlite" %}
    ensure_sqlite_folder(database_url)
{%- endif %}
    command.upgrade(alembic_config(database_url), revision)


def downgrade(database_url: str, revision: str) -> None:
    """Downgrade the schema to `revision`."""
    command.downgrade(alembic_config(database_url), revision)
{%- if cookiecutter.database == "sqlite" %}


def sqlite_path(database_url: str) -> str:
    """The file of a SQLite URL (`sqlite+aiosqlite:///var/db.sqlite3`: `var/db.sqlite3`)."""
    path = make_url(database_url).database
    if not path or path == ":memory:":
        raise ValueError("DATABASE_URL must name a SQLite file: migrations run in another process")
    return path


def ensure_sqlite_folder(database_url: str) -> None:
    """Create the folder of a SQLite file so that the first start does not fail on it."""
    Path(sqlite_path(database_url)).parent.mkdir(parents=True, exist_ok=True)
{%- endif %}
