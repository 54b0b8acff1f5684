"""Queries on items; each takes a session and raises ProblemError for what the caller got wrong."""

from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from ..models import Item, utc_now
from ..problems import ProblemError


def _not_found(item_id: int) -> ProblemError:
    return ProblemError(404, f"Item {item_id} does not exist.")


def _name_taken(name: object) -> ProblemError:
    return ProblemError(409, f"An item named {name!r} already exists.")


async def create_item(session: AsyncSession, values: dict[str, Any]) -> Item:
    """Insert an item; 409 when its name is taken."""
    item = Item(**values)
    session.add(item)
    try:
        await session.commit()
    except IntegrityError:
        await session.rollback()
        raise _name_taken(values.get("name")) from None
    return item


async def get_item(session: AsyncSession, item_id: int) -> Item:
    """Return one item; 404 when it does not exist."""
    item = await session.get(Item, item_id)
    if item is None:
        raise _not_found(item_id)
    return item


async def list_items(session: AsyncSession, limit: int, offset: int) -> tuple[list[Item], int]:
    """Return a window of items ordered by id, and how many there are in all."""
    rows = await session.scalars(select(Item).order_by(Item.id).limit(limit).offset(offset))
    total = await session.scalar(select(func.count()).select_from(Item))
    return list(rows), total or 0


async def update_item(
    session: AsyncSession, item_id: int, values: dict[str, Any], expected_version: int | None
) -> Item:
    """Change fields in one atomic UPDATE that also bumps the version.

    With `expected_version` (from If-Match) the update only applies to that version: another
    writer's change is never overwritten unseen (412 instead).
    """
    statement = (
        update(Item)
        .where(Item.id == item_id)
        .values(**values, version=Item.version + 1, updated_at=utc_now())
        .returning(Item)
        .execution_options(synchronize_session=False)
    )
    if expected_version is not None:
        statement = statement.where(Item.version == expected_version)
    try:
        item = await session.scalar(statement)
        await session.commit()
    except IntegrityError:
        await session.rollback()
        raise _name_taken(values.get("name")) from None
    if item is None:
        raise await _why_unchanged(session, item_id, expected_version)
    return item


async def delete_item(session: AsyncSession, item_id: int, expected_version: int | None) -> None:
    """Delete an item; 404 when it does not exist, 412 when If-Match names another version."""
    statement = delete(Item).where(Item.id == item_id).returning(Item.id)
    if expected_version is not None:
        statement = statement.where(Item.version == expected_version)
    deleted = await session.scalar(statement)
    await session.commit()
    if deleted is None:
        raise await _why_unchanged(session, item_id, expected_version)


async def _why_unchanged(
    session: AsyncSession, item_id: int, expected_version: int | None
) -> ProblemError:
    """After a write matched no row: 404 when the item is gone, else 412 for a stale version."""
    current = await session.get(Item, item_id)
    if current is None:
        return _not_found(item_id)
    return ProblemError(
        412,
        f"Item {item_id} is at version {current.version}, not {expected_version}.",
        headers={"ETag": f'"{current.version}"'},
    )
