"""The tables, in SQLAlchemy Core: what queries are written against and Alembic compares to."""

from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy import Column, DateTime, Integer, MetaData, String, Table, TypeDecorator
from sqlalchemy.engine import Dialect

# Stable constraint names, so that migrations can drop and alter them on every backend.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored in UTC and always read back timezone-aware.

    A database with a timestamp type keeps the zone, and its driver reads it back. SQLite keeps
    text without one: it is read as UTC in one step, since `datetime.replace(tzinfo=...)` after
    SQLAlchemy's own parsing costs four times as much, for each timestamp of each row.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(
        self, value: datetime | None, _dialect: Dialect
    ) -> datetime | None:
        return value.astimezone(UTC) if value is not None else None

    def result_processor(
        self, dialect: Dialect, _coltype: object
    ) -> Callable[[str | None], datetime | None] | None:
        return _utc_from_text if dialect.name == "sqlite" else None


def _utc_from_text(value: str | None) -> datetime | None:
    """A timestamp that SQLAlchemy wrote as text in UTC ("2026-01-02 03:04:05.000006")."""
    return None if value is None else datetime.fromisoformat(value + "+00:00")


def utc_now() -> datetime:
    """The current time in UTC."""
    return datetime.now(UTC)


# The example resource: a named item with an optimistic-concurrency version.
items = Table(
    "items",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(100), nullable=False, unique=True),
    Column("description", String(1000)),
    Column("version", Integer, nullable=False, default=1),
    Column("created_at", UTCDateTime, nullable=False, default=utc_now),
    Column(
        "updated_at", UTCDateTime, nullable=False, default=utc_now, onupdate=utc_now
    ),
)
