"""The token endpoint's limit: LOGIN_RATE_LIMIT attempts per RATE_LIMIT_WINDOW seconds.

Attempts are counted per client address and per username in Redis, so that every worker and
replica shares the counts. Above either, the answer is 429 with Retry-After. Redis being down
never stops a login: the limit is skipped and a warning logged.
"""

import dataclasses
import logging
from collections.abc import AsyncIterator

from aiohttp import web
from redis.asyncio import Redis
from redis.exceptions import RedisError

from ..cache import redis_key
from ..problems import ProblemError
from ..ratelimit import RateLimiter
from ..routing import endpoints_key
from ..settings import settings_key
from .guard import auth_key
from .users import normalise
from .views import issue_token

log = logging.getLogger(__name__)


class LoginThrottle:
    """Counts the login attempts of each client and of each username in fixed windows."""

    def __init__(
        self, redis: Redis, limiter: RateLimiter, limit: int, window: int, prefix: str
    ) -> None:
        self._redis = redis
        self._limiter = limiter
        self._limit = limit
        self._window = window
        self._prefix = f"{prefix}login:"

    async def check(self, request: web.Request, username: str) -> None:
        """Count this attempt; ProblemError 429 when the client or the username is over."""
        keys = (
            f"{self._prefix}client:{self._limiter.client(request)}",
            f"{self._prefix}user:{normalise(username)}",
        )
        try:
            async with self._redis.pipeline(transaction=True) as pipe:
                for key in keys:
                    pipe.incr(key)
                    pipe.expire(key, self._window, nx=True)
                    pipe.ttl(key)
                results = await pipe.execute()
        except RedisError as exc:
            log.warning("login rate limit skipped: %s", type(exc).__name__)
            return
        counts, waits = results[0::3], results[2::3]
        over = [
            int(wait)
            for count, wait in zip(counts, waits, strict=True)
            if count > self._limit
        ]
        if over:
            wait = str(max(*over, 1))
            raise ProblemError(
                429,
                f"Too many login attempts; try again in {wait} s.",
                headers={"Retry-After": wait},
            )


async def throttle_context(app: web.Application) -> AsyncIterator[None]:
    """Ask the throttle before each login (after auth_context, which made the list)."""
    settings = app[settings_key]
    redis = app[redis_key]
    throttle = LoginThrottle(
        redis,
        RateLimiter(redis, settings),
        settings.login_rate_limit,
        settings.rate_limit_window,
        settings.cache_prefix,
    )
    app[auth_key].login_checks.append(throttle.check)
    yield


def setup_login_throttle(app: web.Application) -> None:
    """Limit the token endpoint when LOGIN_RATE_LIMIT is set, and document its 429."""
    if not app[settings_key].login_rate_limit:
        return
    app.cleanup_ctx.append(throttle_context)
    table = app[endpoints_key]
    for index, endpoint in enumerate(table):
        if endpoint.handler is issue_token:
            table[index] = dataclasses.replace(endpoint, errors=(*endpoint.errors, 429))
