"""What the handlers need from item storage, whatever stores the items.

Implementations raise ProblemError for what the caller got wrong: 404 for a missing item,
409 for a name in use, 412 for a stale If-Match version.
"""

from typing import Any, Protocol

from aiohttp import web

from ..problems import ProblemError
from ..schemas import ItemOut


class ItemRepository(Protocol):
    """Storage of items; every method is one atomic operation."""

    async def create(self, values: dict[str, Any]) -> ItemOut: ...

    async def get(self, item_id: int) -> ItemOut: ...

    async def list(self, limit: int, offset: int) -> tuple[list[ItemOut], int]: ...

    async def update(
        self, item_id: int, values: dict[str, Any], expected_version: int | None
    ) -> ItemOut: ...

    async def delete(self, item_id: int, expected_version: int | None) -> None: ...


items_key: web.AppKey[ItemRepository] = web.AppKey("items")


def not_found(item_id: int) -> ProblemError:
    """404 for an item that does not exist."""
    return ProblemError(404, f"Item {item_id} does not exist.")


def name_taken(name: object) -> ProblemError:
    """409 for a name another item has."""
    return ProblemError(409, f"An item named {name!r} already exists.")


def stale(item_id: int, current: int, expected: int | None) -> ProblemError:
    """412 for a write that named another version than the current one."""
    return ProblemError(
        412,
        f"Item {item_id} is at version {current}, not {expected}.",
        headers={"ETag": f'"{current}"'},
    )
