"""Items in the SQL database: each operation is one statement in its own session.

A database that cannot be reached or does not answer in time makes the operation a 503.
"""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, NoReturn

from sqlalchemy import bindparam, delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from ..db import Database, unavailable_as_503
from ..models import Item, utc_now
from ..schemas import ItemOut
from .repository import name_taken, not_found, stale

# One item by id, built once: compiled once, and prepared once per connection where the driver can.
_BY_ID = select(Item.__table__).where(Item.__table__.c.id == bindparam("item_id"))


class SqlItemRepository:
    """ItemRepository on SQLAlchemy; writes are single atomic statements."""

    def __init__(self, database: Database) -> None:
        self._database = database

    @asynccontextmanager
    async def _session(self) -> AsyncIterator[AsyncSession]:
        """A session whose outages become 503 answers."""
        with unavailable_as_503():
            async with self._database.session() as session:
                yield session

    async def create(self, values: dict[str, Any]) -> ItemOut:
        async with self._session() as session:
            item = Item(**values)
            session.add(item)
            try:
                await session.commit()
            except IntegrityError:
                raise name_taken(values.get("name")) from None
            return ItemOut.model_validate(item)

    async def get(self, item_id: int) -> ItemOut:
        """The hot read: one SELECT on a pooled connection; no session, no ORM object to build."""
        with unavailable_as_503():
            async with self._database.connect() as connection:
{%- if cookiecutter.database == "postgresql" %}
                # One statement needs no transaction: no BEGIN and ROLLBACK round trips.
                await connection.execution_options(isolation_level="AUTOCOMMIT")
{%- endif %}
                row = (await connection.execute(_BY_ID, {"item_id": item_id})).first()
        if row is None:
            raise not_found(item_id)
        return ItemOut.model_validate(row)

    async def list(self, limit: int, offset: int) -> tuple[list[ItemOut], int]:
        async with self._session() as session:
            rows = await session.scalars(select(Item).order_by(Item.id).limit(limit).offset(offset))
            total = await session.scalar(select(func.count()).select_from(Item))
            return [ItemOut.model_validate(item) for item in rows], total or 0

    async def update(
        self, item_id: int, values: dict[str, Any], expected_version: int | None
    ) -> ItemOut:
        """One UPDATE that also bumps the version; with If-Match, only that version changes."""
        statement = (
            update(Item)
            .where(Item.id == item_id)
            .values(**values, version=Item.version + 1, updated_at=utc_now())
            .returning(Item)
            .execution_options(synchronize_session=False)
        )
        if expected_version is not None:
            statement = statement.where(Item.version == expected_version)
        async with self._session() as session:
            try:
                item = await session.scalar(statement)
                await session.commit()
            except IntegrityError:
                raise name_taken(values.get("name")) from None
            if item is None:
                await self._why_unchanged(session, item_id, expected_version)
            return ItemOut.model_validate(item)

    async def delete(self, item_id: int, expected_version: int | None) -> None:
        statement = delete(Item).where(Item.id == item_id).returning(Item.id)
        if expected_version is not None:
            statement = statement.where(Item.version == expected_version)
        async with self._session() as session:
            deleted = await session.scalar(statement)
            await session.commit()
            if deleted is None:
                await self._why_unchanged(session, item_id, expected_version)

    @staticmethod
    async def _why_unchanged(
        session: AsyncSession, item_id: int, expected_version: int | None
    ) -> NoReturn:
        """After a write matched no row: 404 when the item is gone, else 412."""
        current = await session.get(Item, item_id)
        if current is None:
            raise not_found(item_id)
        raise stale(item_id, current.version, expected_version)
