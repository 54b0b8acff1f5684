"""Items in process memory: the repository when the service has no database.

Each method runs without awaiting, so on the event loop it is atomic. The items live as long
as the process and are not shared between workers.
"""

from datetime import UTC, datetime
from typing import Any, cast

from aiohttp import web

from .repository import (
    Item,
    ItemNotFoundError,
    ItemRepository,
    NameTakenError,
    StaleVersionError,
)


class MemoryItemRepository:
    """ItemRepository on a dict."""

    def __init__(self) -> None:
        self._items: dict[int, Item] = {}
        self._last_id = 0

    async def create(self, values: dict[str, Any]) -> Item:
        self._check_name(values.get("name"), None)
        self._last_id += 1
        now = datetime.now(UTC)
        item = Item(
            id=self._last_id,
            name=values["name"],
            description=values.get("description"),
            version=1,
            created_at=now,
            updated_at=now,
        )
        self._items[item["id"]] = item
        return item

    async def get(self, item_id: int) -> Item:
        try:
            return self._items[item_id]
        except KeyError:
            raise ItemNotFoundError(item_id) from None

    async def list(self, limit: int, offset: int) -> tuple[list[Item], int]:
        ordered = sorted(self._items)
        return [self._items[key] for key in ordered[offset : offset + limit]], len(
            ordered
        )

    async def update(
        self, item_id: int, values: dict[str, Any], expected_version: int | None
    ) -> Item:
        current = self._current(item_id, expected_version)
        if "name" in values:
            self._check_name(values["name"], item_id)
        changes = {"version": current["version"] + 1, "updated_at": datetime.now(UTC)}
        item = cast(Item, {**current, **values, **changes})
        self._items[item_id] = item
        return item

    async def delete(self, item_id: int, expected_version: int | None) -> None:
        self._current(item_id, expected_version)
        del self._items[item_id]

    def _current(self, item_id: int, expected_version: int | None) -> Item:
        item = self._items.get(item_id)
        if item is None:
            raise ItemNotFoundError(item_id)
        if expected_version is not None and item["version"] != expected_version:
            raise StaleVersionError(item_id, item["version"], expected_version)
        return item

    def _check_name(self, name: object, owner: int | None) -> None:
        if any(
            item["name"] == name and item["id"] != owner
            for item in self._items.values()
        ):
            raise NameTakenError(name)


def memory_store(_app: web.Application) -> ItemRepository:
    """Items in this process's memory, empty at start."""
    return MemoryItemRepository()
