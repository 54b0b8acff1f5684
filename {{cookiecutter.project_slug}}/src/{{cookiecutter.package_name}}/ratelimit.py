"""Per-client rate limiting in Redis: at most RATE_LIMIT requests per RATE_LIMIT_WINDOW seconds.

A fixed window per client, opened by its first request and counted by one Lua script, so every
worker and replica shares the count atomically. Over the limit the answer is 429 with
Retry-After. Probes, metrics and the docs are never counted. Redis being down never fails a
request: the limit is skipped and a warning logged.
"""

import ipaddress
import logging
import math
from collections.abc import AsyncIterator
from typing import Final

from aiohttp import web
from aiohttp.typedefs import Handler
from redis.asyncio import Redis
from redis.exceptions import RedisError

from .cache import redis_key
from .cors import expose_headers
from .middlewares import add_middleware
from .problems import problem_response
from .routing import endpoints_key
from .settings import Settings, settings_key

log = logging.getLogger(__name__)

# Count the request; a key without an expiry (its first request) gets the window's.
_COUNT: Final = """
local count = redis.call('INCR', KEYS[1])
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
return {count, ttl}
"""
# What every counted answer says: the limit, what is left of it, seconds until the window ends.
RATE_LIMIT_HEADERS: Final = (
    "RateLimit-Limit",
    "RateLimit-Remaining",
    "RateLimit-Reset",
)
# Endpoints of these tags are not limited: probes, scrapes, documentation.
_EXEMPT_TAGS: Final = frozenset({"health", "monitoring", "docs"})


class RateLimiter:
    """Counts the requests of each client in its current window."""

    def __init__(self, redis: Redis, settings: Settings) -> None:
        self.limit = settings.rate_limit
        self._window_ms = settings.rate_limit_window * 1000
        self._prefix = f"{settings.cache_prefix}ratelimit:"
        self._proxies = settings.trusted_proxies
        self._count = redis.register_script(_COUNT)
        self.exempt: set[Handler] = set()

    def client(self, request: web.Request) -> str:
        """The client's address: the peer's, or the one the trusted proxies say they served."""
        if self._proxies:
            forwarded = ",".join(request.headers.getall("X-Forwarded-For", ())).split(
                ","
            )
            if len(forwarded) >= self._proxies:
                try:
                    return str(ipaddress.ip_address(forwarded[-self._proxies].strip()))
                except ValueError:
                    pass
        return request.remote or ""

    async def hit(self, client: str) -> tuple[int, float]:
        """Count one request; return the count in this window and the seconds left in it."""
        count, ttl = await self._count(
            keys=[self._prefix + client], args=[self._window_ms]
        )
        return int(count), int(ttl) / 1000


rate_limiter_key = web.AppKey("rate_limiter", RateLimiter)


async def rate_limit_context(app: web.Application) -> AsyncIterator[None]:
    """Store the limiter; its script is loaded into Redis on first use."""
    limiter = app[rate_limiter_key] = RateLimiter(app[redis_key], app[settings_key])
    limiter.exempt.update(
        endpoint.handler
        for endpoint in app[endpoints_key]
        if endpoint.tag in _EXEMPT_TAGS
    )
    yield


def _headers(limit: int, count: int, reset: float) -> dict[str, str]:
    values = (limit, max(limit - count, 0), max(math.ceil(reset), 1))
    return {
        name: str(value) for name, value in zip(RATE_LIMIT_HEADERS, values, strict=True)
    }


@web.middleware
async def rate_limit_middleware(
    request: web.Request, handler: Handler
) -> web.StreamResponse:
    """429 when the client is over its limit; every counted answer says how much is left."""
    limiter = request.app[rate_limiter_key]
    if request.match_info.handler in limiter.exempt:
        return await handler(request)
    try:
        count, reset = await limiter.hit(limiter.client(request))
    except RedisError as exc:
        log.warning("rate limit skipped: %s", type(exc).__name__)
        return await handler(request)
    headers = _headers(limiter.limit, count, reset)
    if count > limiter.limit:
        wait = headers["RateLimit-Reset"]
        return problem_response(
            429,
            f"More than {limiter.limit} requests in this window; try again in {wait} s.",
            headers={**headers, "Retry-After": wait},
        )
    response = await handler(request)
    if not response.prepared:
        response.headers.update(headers)
    return response


def setup_rate_limit(app: web.Application) -> None:
    """Limit each client's requests, when RATE_LIMIT is set; else add nothing."""
    if app[settings_key].rate_limit:
        app.cleanup_ctx.append(rate_limit_context)
        add_middleware(app, rate_limit_middleware)
        expose_headers(app, RATE_LIMIT_HEADERS)
