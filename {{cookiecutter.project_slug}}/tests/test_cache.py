"""The Redis read-through cache of items, against a real Redis."""

import json

from pydantic import SecretStr
from pytest_aiohttp import AiohttpClient

from {{ cookiecutter.package_name }}.app import create_app
from {{ cookiecutter.package_name }}.cache import redis_key
from {{ cookiecutter.package_name }}.settings import Settings, settings_key

from .helpers import Client, assert_problem, create_item


def cache_key(client: Client, item_id: int) -> str:
    return f"{client.app[settings_key].cache_prefix}item:{item_id}"


async def test_a_read_fills_the_cache_with_a_ttl(client: Client) -> None:
    created = await create_item(client, "kettle")
    redis = client.app[redis_key]
    key = cache_key(client, created["id"])
    assert await redis.get(key) is None

    await client.get(f"/api/v1/items/{created['id']}")
    assert json.loads(await redis.get(key) or b"null")["name"] == "kettle"
    assert 0 < await redis.ttl(key) <= client.app[settings_key].cache_ttl


async def test_an_item_reads_the_same_from_the_cache_as_from_the_database(
    client: Client,
) -> None:
    created = await create_item(client, "mug")
    url = f"/api/v1/items/{created['id']}"
    stored = await (await client.get(url)).read()
    cached = await (await client.get(url)).read()
    assert await client.app[redis_key].get(cache_key(client, created["id"])) is not None
    assert cached == stored
    assert json.loads(stored) == created


async def test_reads_are_served_from_the_cache(client: Client) -> None:
    created = await create_item(client, "teapot")
    url = f"/api/v1/items/{created['id']}"
    await client.get(url)
    cached = {**created, "description": "served from Redis"}
    await client.app[redis_key].set(
        cache_key(client, created["id"]), json.dumps(cached)
    )
    assert (await (await client.get(url)).json())["description"] == "served from Redis"


async def test_writes_drop_the_cached_copy(client: Client) -> None:
    created = await create_item(client, "cup")
    url = f"/api/v1/items/{created['id']}"
    key = cache_key(client, created["id"])
    await client.get(url)

    await client.patch(url, json={"description": "chipped"})
    assert await client.app[redis_key].get(key) is None
    assert (await (await client.get(url)).json())["description"] == "chipped"

    await client.delete(url)
    assert await client.app[redis_key].get(key) is None
    assert (await client.get(url)).status == 404


async def test_items_still_work_when_redis_is_down(
    aiohttp_client: AiohttpClient, settings: Settings
) -> None:
    down = settings.model_copy(
        update={"redis_url": SecretStr("redis://127.0.0.1:1/0"), "redis_timeout": 1}
    )
    client = await aiohttp_client(create_app(down))
    created = await create_item(client, "saucer")
    url = f"/api/v1/items/{created['id']}"
    assert (await client.get(url)).status == 200
    assert (await client.patch(url, json={"name": "plate"})).status == 200
    assert (await (await client.get(url)).json())["name"] == "plate"


async def test_unreachable_redis_makes_readyz_503_but_livez_200(
    aiohttp_client: AiohttpClient, settings: Settings
) -> None:
    broken = settings.model_copy(
        update={"redis_url": SecretStr("redis://127.0.0.1:1/0"), "redis_timeout": 1}
    )
    client = await aiohttp_client(create_app(broken))

    body = await assert_problem(await client.get("/readyz"), 503)
    assert body["checks"]["redis"] == "unavailable"
    assert (await client.get("/livez")).status == 200
