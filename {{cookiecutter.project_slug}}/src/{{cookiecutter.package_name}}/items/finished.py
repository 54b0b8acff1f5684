"""Item writes run to their end, even when the request that started them is cancelled.

The server cancels a handler whose client has gone (aiohttp's handler_cancellation), and a
request past REQUEST_TIMEOUT is cancelled too. A write cancelled halfway could leave the layers
around the store out of step (the row changed, the cache not told, the event not sent), so each
write runs in a task of its own that the cancellation does not reach; the app's cleanup waits
for those still running before the stores close. The cost per write is measured in the
README's Performance section.
"""

import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar

from .repository import Item, ItemRepository, PassThrough

T = TypeVar("T")


class FinishedWrites(PassThrough):
    """An ItemRepository layer whose writes are shielded from the caller's cancellation."""

    def __init__(self, inner: ItemRepository) -> None:
        super().__init__(inner)
        self._running: set[asyncio.Task[Any]] = set()

    async def _finish(self, write: Coroutine[Any, Any, T]) -> T:
        task = asyncio.get_running_loop().create_task(write)
        self._running.add(task)
        task.add_done_callback(self._done)
        return await asyncio.shield(task)

    def _done(self, task: asyncio.Task[Any]) -> None:
        self._running.discard(task)
        if not task.cancelled():
            # Read, so that a write whose caller has gone is not reported as never retrieved.
            task.exception()

    async def create(self, values: dict[str, Any]) -> Item:
        return await self._finish(self._inner.create(values))

    async def update(
        self, item_id: int, values: dict[str, Any], expected_version: int | None
    ) -> Item:
        return await self._finish(self._inner.update(item_id, values, expected_version))

    async def delete(self, item_id: int, expected_version: int | None) -> None:
        await self._finish(self._inner.delete(item_id, expected_version))

    async def wait(self) -> None:
        """Until every write under way has ended."""
        if self._running:
            await asyncio.wait(self._running)
