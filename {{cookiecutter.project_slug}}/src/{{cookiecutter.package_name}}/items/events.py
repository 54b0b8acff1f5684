"""Item change events: published after every write, followed at GET /api/v1/items/feed.

Through the feed's relay, when the service has one, each event reaches every process and
replica; without it, a socket sees the changes made through the process it is connected to.
"""

from typing import Any, Final, Literal

from aiohttp import web
from pydantic import BaseModel

from ..feed import Feed, feed_key, setup_feed, stream
from ..routing import Endpoint, add_endpoints
from ..schemas import ItemOut
from .context import add_layer
from .repository import Item, ItemRepository, PassThrough
from .views import PREFIX

FEED_PATH: Final = f"{PREFIX}/feed"
Change = Literal["created", "updated", "deleted"]


class ItemEvent(BaseModel):
    """One message of the feed; `item` is the new state, null after a delete."""

    event: Change
    id: int
    item: ItemOut | None


class PublishingItemRepository(PassThrough):
    """ItemRepository that publishes an ItemEvent after each write that succeeded."""

    def __init__(self, inner: ItemRepository, feed: Feed) -> None:
        super().__init__(inner)
        self._feed = feed

    async def _publish(self, event: Change, item_id: int, item: Item | None) -> None:
        message = ItemEvent.model_validate(
            {"event": event, "id": item_id, "item": item}
        )
        await self._feed.broadcast(message.model_dump_json())

    async def create(self, values: dict[str, Any]) -> Item:
        item = await self._inner.create(values)
        await self._publish("created", item["id"], item)
        return item

    async def update(
        self, item_id: int, values: dict[str, Any], expected_version: int | None
    ) -> Item:
        item = await self._inner.update(item_id, values, expected_version)
        await self._publish("updated", item_id, item)
        return item

    async def delete(self, item_id: int, expected_version: int | None) -> None:
        await self._inner.delete(item_id, expected_version)
        await self._publish("deleted", item_id, None)


async def follow(request: web.Request) -> web.WebSocketResponse:
    """GET with Upgrade: a WebSocket that receives one ItemEvent per change."""
    return await stream(request, request.app[feed_key])


ENDPOINTS = (
    Endpoint(method="GET", path=FEED_PATH, handler=follow, summary="Follow item changes",
             tag="items", status=101, errors=(403, 426), timed=False,
             description='A WebSocket (not an HTTP answer): each change of an item arrives as '
                         'one JSON text message, {"event": "created" | "updated" | "deleted", '
                         '"id": <item id>, "item": <the item, null after a delete>}. '
                         "The server pings every FEED_HEARTBEAT seconds; a client more than "
                         "FEED_QUEUE_SIZE events behind is closed with 1013, and every socket "
                         "with 1001 when the server stops."),
)  # fmt: skip


def _publishing(app: web.Application, inner: ItemRepository) -> ItemRepository:
    return PublishingItemRepository(inner, app[feed_key])


def setup_item_feed(app: web.Application) -> None:
    """Publish every change of an item to the feed, followed at GET /api/v1/items/feed."""
    setup_feed(app)
    add_layer(app, _publishing)
    add_endpoints(app, ENDPOINTS)
