"""A read-through Redis cache in front of another ItemRepository.

Reads by id are served from Redis while fresh (CACHE_TTL seconds); every write through this
repository drops the cached copy. Redis being down never fails a request: the cache is skipped
and the error logged, and a copy that could not be dropped expires with its TTL.
"""

import logging
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import RedisError

from ..schemas import ItemOut
from .repository import ItemRepository

log = logging.getLogger(__name__)


class CachedItemRepository:
    """ItemRepository that caches `get` in Redis and invalidates on writes."""

    def __init__(self, inner: ItemRepository, redis: Redis, ttl: int, prefix: str) -> None:
        self._inner = inner
        self._redis = redis
        self._ttl = ttl
        self._prefix = prefix

    def _key(self, item_id: int) -> str:
        return f"{self._prefix}item:{item_id}"

    async def create(self, values: dict[str, Any]) -> ItemOut:
        return await self._inner.create(values)

    async def get(self, item_id: int) -> ItemOut:
        key = self._key(item_id)
        try:
            cached = await self._redis.get(key)
        except RedisError as exc:
            log.warning("cache read failed: %s", type(exc).__name__)
            cached = None
        if cached is not None:
            return ItemOut.model_validate_json(cached)
        item = await self._inner.get(item_id)
        try:
            await self._redis.set(key, item.model_dump_json(), ex=self._ttl)
        except RedisError as exc:
            log.warning("cache write failed: %s", type(exc).__name__)
        return item

    async def list(self, limit: int, offset: int) -> tuple[list[ItemOut], int]:
        return await self._inner.list(limit, offset)

    async def update(
        self, item_id: int, values: dict[str, Any], expected_version: int | None
    ) -> ItemOut:
        try:
            return await self._inner.update(item_id, values, expected_version)
        finally:
            await self._forget(item_id)

    async def delete(self, item_id: int, expected_version: int | None) -> None:
        try:
            await self._inner.delete(item_id, expected_version)
        finally:
            await self._forget(item_id)

    async def _forget(self, item_id: int) -> None:
        try:
            await self._redis.delete(self._key(item_id))
        except RedisError as exc:
            log.warning("cache invalidation failed: %s", type(exc).__name__)
