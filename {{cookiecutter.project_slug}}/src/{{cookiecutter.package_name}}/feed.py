"""The live feed: JSON messages fanned out to the open WebSockets of this process.

A message is broadcast through the feed's relay when a component sets one to carry it to the
feed of every process; without a relay it stays in this process.

Publishing never waits on a client. Each socket has a bounded queue (FEED_QUEUE_SIZE) drained
by a task of its own; a socket whose queue is full has fallen behind and missed events, so it
is closed with 1013 (Try Again Later) instead of being buffered without end. A slow client
costs bounded memory and never holds up the others; it reconnects and re-reads what it needs.
On shutdown every socket is closed with 1001 (Going Away).
"""

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from typing import Final, Protocol
from urllib.parse import urlsplit

from aiohttp import WSCloseCode, web

from .problems import ProblemError
from .settings import settings_key

# A send or a closing handshake that takes longer means a client that stopped reading; aiohttp
# then drops the connection. Together they bound how long shutdown waits for one socket.
SEND_TIMEOUT: Final = 5.0
CLOSE_TIMEOUT: Final = 5.0
# The feed only speaks: what a client sends is read (for pings and the close) and dropped.
_MAX_INCOMING: Final = 4096


class Socket(Protocol):
    """What the feed needs of a WebSocket; aiohttp's WebSocketResponse has it."""

    async def send_str(self, data: str) -> None: ...

    async def close(self, *, code: int, message: bytes) -> bool: ...


class Subscription:
    """One socket's place in the feed: its bounded queue and the task that drains it."""

    def __init__(self, socket: Socket, queue_size: int) -> None:
        self._socket = socket
        # None ends the queue; the socket is then closed with `_close`.
        self._queue: asyncio.Queue[str | None] = asyncio.Queue(queue_size)
        self._close: tuple[int, bytes] | None = None
        self._task = asyncio.create_task(self._drain())

    def offer(self, message: str) -> bool:
        """Queue a message; False when the queue is full (the socket is too slow)."""
        try:
            self._queue.put_nowait(message)
        except asyncio.QueueFull:
            return False
        return True

    def end(self, code: int, reason: bytes) -> None:
        """Drop what is queued; the task closes the socket once its current send is done."""
        if self._close is not None:
            return
        self._close = (code, reason)
        while not self._queue.empty():
            self._queue.get_nowait()
        self._queue.put_nowait(None)

    async def wait_closed(self) -> None:
        """Wait until the task has closed the socket (within SEND_TIMEOUT + CLOSE_TIMEOUT)."""
        await asyncio.wait([self._task])

    async def _drain(self) -> None:
        try:
            while (message := await self._queue.get()) is not None:
                async with asyncio.timeout(SEND_TIMEOUT):
                    await self._socket.send_str(message)
        except OSError:
            pass  # gone (ConnectionError) or stuck (TimeoutError): the close below ends it
        code, reason = self._close or (WSCloseCode.GOING_AWAY, b"")
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(CLOSE_TIMEOUT):
                await self._socket.close(code=code, message=reason)


# Carries a message to the feed of every process, where it is published.
Relay = Callable[[str], Awaitable[None]]


class Feed:
    """The open sockets of this process and what is published to them."""

    def __init__(self, queue_size: int) -> None:
        self._queue_size = queue_size
        self._subscriptions: set[Subscription] = set()
        self._closed = False
        self.relay: Relay | None = None

    async def broadcast(self, message: str) -> None:
        """Send `message` to the sockets of every process the relay reaches, or of this one."""
        if self.relay is None:
            self.publish(message)
        else:
            await self.relay(message)

    def __len__(self) -> int:
        return len(self._subscriptions)

    def subscribe(self, socket: Socket) -> Subscription:
        """Start sending to `socket`; after shutdown began it is closed at once."""
        subscription = Subscription(socket, self._queue_size)
        if self._closed:
            subscription.end(WSCloseCode.GOING_AWAY, b"server shutdown")
        else:
            self._subscriptions.add(subscription)
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        """Stop sending to a socket (its client left); its task closes it if still open."""
        self._subscriptions.discard(subscription)
        subscription.end(WSCloseCode.GOING_AWAY, b"")

    def publish(self, message: str) -> None:
        """Queue `message` for every socket; a socket that is too slow is closed instead."""
        for subscription in list(self._subscriptions):
            if not subscription.offer(message):
                self._subscriptions.discard(subscription)
                subscription.end(
                    WSCloseCode.TRY_AGAIN_LATER, b"too slow: events were dropped"
                )

    async def close(self) -> None:
        """Close every socket with 1001 and refuse new ones."""
        self._closed = True
        subscriptions, self._subscriptions = self._subscriptions, set()
        for subscription in subscriptions:
            subscription.end(WSCloseCode.GOING_AWAY, b"server shutdown")
        await asyncio.gather(
            *(subscription.wait_closed() for subscription in subscriptions)
        )


feed_key = web.AppKey("feed", Feed)


async def close_feed(app: web.Application) -> None:
    """on_shutdown: runs before aiohttp waits for handlers, so the socket handlers can end."""
    await app[feed_key].close()


def setup_feed(app: web.Application) -> None:
    """Give the app its feed, closed when the app shuts down."""
    app[feed_key] = Feed(app[settings_key].feed_queue_size)
    app.on_shutdown.append(close_feed)


def _same_site_or_allowed(request: web.Request) -> bool:
    """Browsers send Origin; a page of another site may open the socket only if CORS allows it."""
    origin = request.headers.get("Origin")
    if origin is None or urlsplit(origin).netloc == request.host:
        return True
    return origin in request.app[settings_key].cors_origins


async def stream(request: web.Request, feed: Feed) -> web.WebSocketResponse:
    """Answer a WebSocket handshake and send the feed's messages until either side closes."""
    socket = web.WebSocketResponse(
        heartbeat=request.app[settings_key].feed_heartbeat,
        max_msg_size=_MAX_INCOMING,
        # Every socket would compress the same message again: CPU per subscriber.
        compress=False,
    )
    if not socket.can_prepare(request).ok:
        raise ProblemError(
            426,
            "Open this path as a WebSocket: GET with Upgrade: websocket.",
            headers={"Upgrade": "websocket"},
        )
    if not _same_site_or_allowed(request):
        raise ProblemError(
            403, "WebSockets from this origin are not allowed (CORS_ORIGINS)."
        )
    await socket.prepare(request)
    subscription = feed.subscribe(socket)
    try:
        async for _ in socket:
            pass
    finally:
        feed.unsubscribe(subscription)
        await subscription.wait_closed()
    return socket
