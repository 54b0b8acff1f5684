"""What the handlers need from item storage, whatever stores the items, and what it refuses.

Implementations give items as `Item` rows and raise the errors below for what the caller got
wrong; the views decide what each one means in HTTP.
"""

from datetime import datetime
from typing import Any, Protocol, TypedDict

from aiohttp import web


class Item(TypedDict):
    """An item as stored; the API shows it as is (schemas.Item describes it)."""

    id: int
    name: str
    description: str | None
    version: int
    created_at: datetime
    updated_at: datetime


class ItemRepository(Protocol):
    """Storage of items; every method is one atomic operation."""

    async def create(self, values: dict[str, Any]) -> Item: ...

    async def get(self, item_id: int) -> Item: ...

    async def list(self, limit: int, offset: int) -> tuple[list[Item], int]: ...

    async def update(
        self, item_id: int, values: dict[str, Any], expected_version: int | None
    ) -> Item: ...

    async def delete(self, item_id: int, expected_version: int | None) -> None: ...


items_key: web.AppKey[ItemRepository] = web.AppKey("items")


class PassThrough:
    """An ItemRepository that hands every call to another: a layer overrides what it acts on."""

    def __init__(self, inner: ItemRepository) -> None:
        self._inner = inner

    async def create(self, values: dict[str, Any]) -> Item:
        return await self._inner.create(values)

    async def get(self, item_id: int) -> Item:
        return await self._inner.get(item_id)

    async def list(self, limit: int, offset: int) -> tuple[list[Item], int]:
        return await self._inner.list(limit, offset)

    async def update(
        self, item_id: int, values: dict[str, Any], expected_version: int | None
    ) -> Item:
        return await self._inner.update(item_id, values, expected_version)

    async def delete(self, item_id: int, expected_version: int | None) -> None:
        await self._inner.delete(item_id, expected_version)


class ItemError(Exception):
    """A change or a read of items that cannot be done as asked."""


class ItemNotFoundError(ItemError):
    """No item has this id."""

    def __init__(self, item_id: int) -> None:
        super().__init__(f"Item {item_id} does not exist.")


class NameTakenError(ItemError):
    """Another item has this name."""

    def __init__(self, name: object) -> None:
        super().__init__(f"An item named {name!r} already exists.")


class StaleVersionError(ItemError):
    """The item is at another version than the one the change was made for."""

    def __init__(self, item_id: int, current: int, expected: int | None) -> None:
        super().__init__(f"Item {item_id} is at version {current}, not {expected}.")
        self.current = current
