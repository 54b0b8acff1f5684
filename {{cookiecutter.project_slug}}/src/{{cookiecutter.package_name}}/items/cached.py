"""A read-through Redis cache in front of another ItemRepository.

Reads by id are served from Redis while fresh (CACHE_TTL seconds); every write through this
repository drops the cached copy. Redis being down never fails a request: the cache is skipped
and the error logged, and a copy that could not be dropped expires with its TTL.
"""

import logging
from datetime import datetime
from typing import Any, cast

import orjson
from aiohttp import web
from redis.asyncio import Redis
from redis.exceptions import RedisError

from ..cache import redis_key
from ..settings import settings_key
from .context import add_layer
from .repository import Item, ItemRepository, PassThrough

log = logging.getLogger(__name__)


class CachedItemRepository(PassThrough):
    """ItemRepository that caches `get` in Redis and invalidates on writes."""

    def __init__(
        self, inner: ItemRepository, redis: Redis, ttl: int, prefix: str
    ) -> None:
        super().__init__(inner)
        self._redis = redis
        self._ttl = ttl
        self._prefix = prefix

    def _key(self, item_id: int) -> str:
        return f"{self._prefix}item:{item_id}"

    async def get(self, item_id: int) -> Item:
        key = self._key(item_id)
        try:
            cached = await self._redis.get(key)
        except RedisError as exc:
            log.warning("cache read failed: %s", type(exc).__name__)
            cached = None
        if cached is not None:
            return _loads(cached)
        item = await self._inner.get(item_id)
        try:
            await self._redis.set(key, orjson.dumps(item), ex=self._ttl)
        except RedisError as exc:
            log.warning("cache write failed: %s", type(exc).__name__)
        return item

    async def update(
        self, item_id: int, values: dict[str, Any], expected_version: int | None
    ) -> Item:
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


def _loads(cached: bytes | str) -> Item:
    """An item from its cached JSON: as stored, with its timestamps as datetimes again."""
    item = orjson.loads(cached)
    for stamp in ("created_at", "updated_at"):
        item[stamp] = datetime.fromisoformat(item[stamp])
    return cast(Item, item)


def _cached(app: web.Application, inner: ItemRepository) -> ItemRepository:
    settings = app[settings_key]
    return CachedItemRepository(
        inner, app[redis_key], settings.cache_ttl, settings.cache_prefix
    )


def setup_item_cache(app: web.Application) -> None:
    """Read items through the Redis cache."""
    add_layer(app, _cached)
