"""The Redis client: opened once for the app's life, closed on cleanup, pinged for readiness."""

import asyncio
import importlib
from collections.abc import AsyncIterator
from functools import partial
from typing import Any

import redis
from aiohttp import web
from redis.asyncio import Redis

from .health import register_probe
from .settings import settings_key

redis_key = web.AppKey("redis", Redis)


def _identity() -> dict[str, Any]:
    """The client's version, named once.

    redis-py 6 and newer would read it from the package's files for every new connection, on
    the event loop; redis-py 5 (which some job queues pin) reads it once, at import, and has no
    `driver_info`.
    """
    try:
        driver_info = importlib.import_module("redis.driver_info")
    except ImportError:
        return {}
    return {"driver_info": driver_info.DriverInfo(lib_version=redis.__version__)}


async def redis_context(app: web.Application) -> AsyncIterator[None]:
    """Create the client (it connects lazily, so a Redis outage does not stop the start)."""
    settings = app[settings_key]
    client = Redis.from_url(
        settings.redis_url.get_secret_value(),
        socket_timeout=settings.redis_timeout,
        socket_connect_timeout=settings.redis_timeout,
        health_check_interval=30,
        **_identity(),
    )
    app[redis_key] = client
    register_probe(app, "redis", partial(ping, client, settings.redis_timeout))
    yield
    await client.aclose()


async def ping(client: Redis, within: float) -> None:
    """PING; raise if Redis does not answer within `within` seconds."""
    async with asyncio.timeout(within):
        await client.ping()


def setup_redis(app: web.Application) -> None:
    """A Redis client for the app's life, in the readiness checks."""
    app.cleanup_ctx.append(redis_context)
