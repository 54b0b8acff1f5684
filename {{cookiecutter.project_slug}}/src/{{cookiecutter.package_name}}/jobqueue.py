"""The job queue as the web app sees it: an arq client for the app's life, and enqueueing.

The queue and the job ids start with CACHE_PREFIX, the prefix of all this service's Redis keys,
so that services (and test runs) sharing one Redis never take each other's jobs. Redis being
down never fails a request: the job is lost, and a warning names it.
"""

import asyncio
import logging
from collections.abc import AsyncIterator
from typing import Any

from aiohttp import web
from arq.connections import ArqRedis
from arq.jobs import Job
from redis.exceptions import RedisError

from .cache import redis_key
from .items.context import add_layer
from .items.repository import Item, ItemRepository, PassThrough
from .jobs import item_created
from .settings import Settings, settings_key

log = logging.getLogger(__name__)

queue_key = web.AppKey("queue", ArqRedis)


def queue_name(settings: Settings) -> str:
    """The Redis sorted set that holds this service's jobs."""
    return f"{settings.cache_prefix}queue"


def item_created_job_id(prefix: str, item: Item) -> str:
    """One id per creation of an item: enqueued twice, the job still runs once."""
    created = round(item["created_at"].timestamp() * 1_000_000)
    return f"{prefix}item-created:{item['id']}:{created}"


async def queue_context(app: web.Application) -> AsyncIterator[None]:
    """Queue through the connections of the app's Redis client: one pool to Redis, not two.

    The client's cleanup context, which runs after this one, closes the pool.
    """
    pool = ArqRedis(
        app[redis_key].connection_pool, default_queue_name=queue_name(app[settings_key])
    )
    app[queue_key] = pool
    yield
    await pool.aclose(close_connection_pool=False)


async def enqueue_item_created(app: web.Application, item: Item) -> Job | None:
    """Queue `item_created` for a new item; None when it was queued already or Redis failed."""
    settings = app[settings_key]
    job_id = item_created_job_id(settings.cache_prefix, item)
    try:
        async with asyncio.timeout(settings.redis_timeout):
            return await app[queue_key].enqueue_job(
                item_created.__name__, item["id"], item["name"], _job_id=job_id
            )
    except (RedisError, OSError, TimeoutError) as exc:
        log.warning("job lost: %s not queued (%s)", job_id, type(exc).__name__)
        return None


class QueuingItemRepository(PassThrough):
    """ItemRepository that queues `item_created` for each item it creates."""

    def __init__(self, inner: ItemRepository, app: web.Application) -> None:
        super().__init__(inner)
        self._app = app

    async def create(self, values: dict[str, Any]) -> Item:
        item = await self._inner.create(values)
        await enqueue_item_created(self._app, item)
        return item


def setup_queue(app: web.Application) -> None:
    """A job queue in the app's Redis, and a job queued for each new item."""
    app.cleanup_ctx.append(queue_context)
    add_layer(app, lambda app, inner: QueuingItemRepository(inner, app))
