"""Items in the SQL database: each operation is one statement, run with one hand-off.

The statements are built once, here, with `bindparam()` for what changes from call to call:
the data layer compiles each of them once (db/statements.py). The rows are items as they are:
the table's types are the item's, so nothing is validated again on the way out.
"""

from typing import Any, NoReturn, cast

from aiohttp import web
from sqlalchemy import bindparam, delete, func, insert, select, update

from ..db import ConstraintError, Database, database_key
from ..models import items
from .repository import (
    Item,
    ItemNotFoundError,
    ItemRepository,
    NameTakenError,
    StaleVersionError,
)

_ID = items.c.id == bindparam("item_id")
_AT_VERSION = items.c.version == bindparam("expected")
_BY_ID = select(items).where(_ID)
_COUNT = select(func.count()).select_from(items)
# The page, and in each of its rows the count of every item: one statement, one snapshot. (A
# window, `count(*) OVER ()`, says the same but made SQLite read every row: 5 times slower.)
_PAGE = (
    select(items, _COUNT.scalar_subquery().label("total"))
    .order_by(items.c.id)
    .limit(bindparam("limit"))
    .offset(bindparam("offset"))
)
_VERSION = select(items.c.version).where(_ID)
# The columns given as parameters are the ones set; the version goes up by one.
_CREATE = insert(items).returning(*items.c)
_UPDATE = (
    update(items).where(_ID).values(version=items.c.version + 1).returning(*items.c)
)
_UPDATE_AT_VERSION = _UPDATE.where(_AT_VERSION)
_DELETE = delete(items).where(_ID).returning(items.c.id)
_DELETE_AT_VERSION = _DELETE.where(_AT_VERSION)


class SqlItemRepository:
    """ItemRepository on the service's database."""

    def __init__(self, database: Database) -> None:
        self._database = database

    async def create(self, values: dict[str, Any]) -> Item:
        try:
            row = await self._database.fetch_one(_CREATE, values)
        except ConstraintError:
            raise NameTakenError(values.get("name")) from None
        return cast(Item, row)

    async def get(self, item_id: int) -> Item:
        row = await self._database.fetch_one(_BY_ID, {"item_id": item_id})
        if row is None:
            raise ItemNotFoundError(item_id)
        return cast(Item, row)

    async def list(self, limit: int, offset: int) -> tuple[list[Item], int]:
        rows = await self._database.fetch_all(_PAGE, {"limit": limit, "offset": offset})
        if rows:
            total = rows[0].pop("total")
            for row in rows[1:]:
                del row["total"]
        else:
            # Past the last page (or no items): the count needs a statement of its own.
            total = await self._database.fetch_value(_COUNT) if offset else 0
        return cast(list[Item], rows), total

    async def update(
        self, item_id: int, values: dict[str, Any], expected_version: int | None
    ) -> Item:
        """One UPDATE that also bumps the version; with If-Match, only that version changes."""
        statement, params = _UPDATE, {**values, "item_id": item_id}
        if expected_version is not None:
            statement, params["expected"] = _UPDATE_AT_VERSION, expected_version
        try:
            row = await self._database.fetch_one(statement, params)
        except ConstraintError:
            raise NameTakenError(values.get("name")) from None
        if row is None:
            await self._why_unchanged(item_id, expected_version)
        return cast(Item, row)

    async def delete(self, item_id: int, expected_version: int | None) -> None:
        statement, params = _DELETE, {"item_id": item_id}
        if expected_version is not None:
            statement, params["expected"] = _DELETE_AT_VERSION, expected_version
        if await self._database.fetch_one(statement, params) is None:
            await self._why_unchanged(item_id, expected_version)

    async def _why_unchanged(
        self, item_id: int, expected_version: int | None
    ) -> NoReturn:
        """After a write matched no row: the item is gone, or at another version."""
        current = await self._database.fetch_value(_VERSION, {"item_id": item_id})
        if current is None:
            raise ItemNotFoundError(item_id)
        raise StaleVersionError(item_id, current, expected_version)


def sql_store(app: web.Application) -> ItemRepository:
    """The items in the app's database."""
    return SqlItemRepository(app[database_key])
