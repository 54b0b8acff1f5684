"""The Redis client: opened once for the app's life, closed on cleanup, pinged for readiness."""

import asyncio
from collections.abc import AsyncIterator

{% if cookiecutter.task_queue != "arq" %}import redis
{% endif %}from aiohttp import web
from redis.asyncio import Redis
{%- if cookiecutter.task_queue != "arq" %}
from redis.driver_info import DriverInfo
{%- endif %}

from .settings import settings_key

redis_key = web.AppKey("redis", Redis)


async def redis_context(app: web.Application) -> AsyncIterator[None]:
    """Create the client (it connects lazily, so a Redis outage does not stop the start)."""
    settings = app[settings_key]
    client = Redis.from_url(
        settings.redis_url.get_secret_value(),
        socket_timeout=settings.redis_timeout,
        socket_connect_timeout=settings.redis_timeout,
        health_check_interval=30,
{%- if cookiecutter.task_queue != "arq" %}
        # Named here, the version is not looked up in the package metadata (files) for every
        # new connection, on the event loop.
        driver_info=DriverInfo(lib_version=redis.__version__),
{%- endif %}
    )
    app[redis_key] = client
    yield
    await client.aclose()


async def ping(client: Redis, within: float) -> None:
    """PING; raise if Redis does not answer within `within` seconds."""
    async with asyncio.timeout(within):
        await client.ping()
