"""Alembic, run from the service: the packaged migrations against DATABASE_URL.

Blocking: call these before the event loop starts (the `migrate` command), or in a thread.
"""

from alembic import command
from alembic.config import Config

MIGRATIONS = "{{ cookiecutter.package_name }}:migrations"


def alembic_config(database_url: str) -> Config:
    """Alembic configuration pointing at the packaged migrations and DATABASE_URL."""
    config = Config()
    config.set_main_option("script_location", MIGRATIONS)
    config.attributes["database_url"] = database_url
    return config


def upgrade(database_url: str, revision: str = "head") -> None:
    """Upgrade the schema to `revision`."""
    command.upgrade(alembic_config(database_url), revision)


def downgrade(database_url: str, revision: str) -> None:
    """Downgrade the schema to `revision`."""
    command.downgrade(alembic_config(database_url), revision)
