"""The feed across processes: its messages carried by Redis pub/sub to every process and replica.

Each process publishes on one channel, `<CACHE_PREFIX>feed`, and hands what the channel brings
(its own messages too) to its sockets through their bounded queues, so every socket of every
process gets the same messages in the same order. One connection per process listens, opened
with the app and closed on cleanup. Pub/sub delivers at most once: what is published while a
process is cut off from Redis never reaches it, as a socket closed with 1013 misses messages;
clients re-read what they need. A message that cannot be published still reaches the sockets
of the process that sent it.
"""

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Final

from aiohttp import web
from redis.asyncio import Redis
from redis.exceptions import RedisError

from .cache import redis_key
from .feed import Feed, feed_key
from .settings import settings_key

log = logging.getLogger(__name__)

# Seconds between two attempts to listen again after Redis went away.
RETRY_DELAY: Final = 1.0
# Seconds one read of the channel waits; between reads the connection is health-checked.
POLL: Final = 1.0


class RedisRelay:
    """Publishes the feed's messages on a Redis channel and delivers the channel's to the feed."""

    def __init__(self, client: Redis, channel: str, feed: Feed) -> None:
        self._client = client
        self._channel = channel
        self._feed = feed
        self.listening = asyncio.Event()

    async def send(self, message: str) -> None:
        """The feed's relay: publish `message`, or deliver it here alone if Redis fails."""
        try:
            await self._client.publish(self._channel, message)
        except RedisError as exc:
            log.warning("feed message not relayed, sent to this process only: %r", exc)
            self._feed.publish(message)

    async def listen(self) -> None:
        """Hand the channel's messages to the feed until cancelled; subscribe again on errors."""
        while True:
            pubsub = self._client.pubsub()
            try:
                await pubsub.subscribe(self._channel)
                while True:
                    message = await pubsub.get_message(timeout=POLL)
                    if message is None:
                        continue
                    if message["type"] == "message":
                        self._feed.publish(message["data"].decode())
                    elif (
                        message["type"] == "subscribe"
                    ):  # Redis confirms: nothing is missed
                        self.listening.set()
            except (RedisError, OSError) as exc:
                self.listening.clear()
                log.warning(
                    "feed relay cut off from Redis, listening again soon: %r", exc
                )
            finally:
                await pubsub.aclose()  # type: ignore[no-untyped-call,unused-ignore]
            await asyncio.sleep(RETRY_DELAY)


async def relay_context(app: web.Application) -> AsyncIterator[None]:
    """Relay the feed through Redis while the app runs; start once listening or REDIS_TIMEOUT."""
    settings = app[settings_key]
    feed = app[feed_key]
    relay = RedisRelay(app[redis_key], f"{settings.cache_prefix}feed", feed)
    listener = asyncio.create_task(relay.listen())
    # A Redis outage must not stop the start: the listener keeps trying in the background.
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(settings.redis_timeout):
            await relay.listening.wait()
    feed.relay = relay.send
    yield
    feed.relay = None
    listener.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await listener


def setup_feed_relay(app: web.Application) -> None:
    """Carry the feed's messages to every process through Redis (after setup_redis)."""
    app.cleanup_ctx.append(relay_context)
