"""The database's turns at its connections: first come, first served, and bounded in time."""

import asyncio
from contextlib import AsyncExitStack

from pytest_aiohttp import AiohttpClient

from {{ cookiecutter.package_name }} import db
from {{ cookiecutter.package_name }}.app import create_app
from {{ cookiecutter.package_name }}.settings import Settings

from .helpers import assert_problem, create_item


async def test_requests_get_connections_in_the_order_they_asked(settings: Settings) -> None:
    database = db.Database(db.create_engine(settings), connections=1, wait=5)
    order: list[str] = []
    inside: list[str] = []

    async def use(name: str) -> None:
        async with database.connect():
            order.append(name)
            inside.append(name)
            assert inside == [name], "two requests held the one connection at once"
            await asyncio.sleep(0.01)
            inside.remove(name)

    try:
        first = database.connect()
        await first.__aenter__()
        waiting = []
        for name in ("a", "b", "c"):
            waiting.append(asyncio.create_task(use(name)))
            await asyncio.sleep(0)
        await first.__aexit__(None, None, None)
        # Asks as the connection comes back, before the waiters have run: it must not jump in.
        waiting.append(asyncio.create_task(use("late")))
        await asyncio.gather(*waiting)
    finally:
        await database.engine.dispose()
    assert order == ["a", "b", "c", "late"]


async def test_a_request_that_waits_too_long_for_a_connection_is_a_503(
    aiohttp_client: AiohttpClient, settings: Settings
) -> None:
{%- if cookiecutter.database == "postgresql" %}
    quick = settings.model_copy(update={"db_timeout": 0.3, "db_pool_size": 2, "db_max_overflow": 0})
    connections = 2
{%- else %}
    quick = settings.model_copy(update={"db_timeout": 0.3})
    connections = db.SQLITE_CONNECTIONS
{%- endif %}
    app = create_app(quick)
    client = await aiohttp_client(app)
    item = f"/api/v1/items/{(await create_item(client, 'waits'))['id']}"
    async with AsyncExitStack() as held:
        for _ in range(connections):
            await held.enter_async_context(app[db.database_key].connect())
        response = await client.get(item)
        await assert_problem(response, 503)
        assert response.headers["Retry-After"] == "5"
    assert (await client.get(item)).status == 200
    assert (await client.delete(item)).status == 204
