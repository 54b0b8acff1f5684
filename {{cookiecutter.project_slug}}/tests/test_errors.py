"""Every error is an RFC 9457 problem+json answer that reveals no internals."""

import asyncio

from aiohttp import web
from pytest_aiohttp import AiohttpClient

from {{ cookiecutter.package_name }}.app import create_app
from {{ cookiecutter.package_name }}.settings import Settings

from .helpers import Client, assert_problem

ITEMS = "/api/v1/items"


async def test_malformed_json_is_400(client: Client) -> None:
    response = await client.post(
        ITEMS, data=b'{"name": "lamp"', headers={"Content-Type": "application/json"}
    )
    body = await assert_problem(response, 400)
    assert body["detail"] == "The request body is not valid JSON."


async def test_other_media_type_is_415(client: Client) -> None:
    response = await client.post(
        ITEMS, data="name=lamp", headers={"Content-Type": "text/plain"}
    )
    await assert_problem(response, 415)


async def test_invalid_fields_are_422_with_each_field_named(client: Client) -> None:
    response = await client.post(
        ITEMS, json={"name": "x" * 101, "description": 5, "extra": 1}
    )
    body = await assert_problem(response, 422)
    fields = {error["field"]: error["type"] for error in body["errors"]}
    assert fields == {
        "name": "string_too_long",
        "description": "string_type",
        "extra": "extra_forbidden",
    }
    assert "xxxxxxxx" not in await response.text()


async def test_json_that_is_not_an_object_is_422(client: Client) -> None:
    await assert_problem(await client.post(ITEMS, json=["lamp"]), 422)


async def test_body_larger_than_client_max_size_is_413(
    aiohttp_client: AiohttpClient, settings: Settings
) -> None:
    small = settings.model_copy(update={"client_max_size": 1024})
    client = await aiohttp_client(create_app(small))
    response = await client.post(
        ITEMS, json={"name": "lamp", "description": "x" * 2000}
    )
    await assert_problem(response, 413)


async def test_unknown_path_is_404(client: Client) -> None:
    await assert_problem(await client.get("/no/such/path"), 404)


async def test_wrong_method_is_405_with_allow(client: Client) -> None:
    response = await client.post("/livez")
    await assert_problem(response, 405)
    assert "GET" in response.headers["Allow"]


async def test_crash_is_500_without_internals(
    aiohttp_client: AiohttpClient, settings: Settings
) -> None:
    async def crash(_request: web.Request) -> web.Response:
        raise RuntimeError("secret internal detail")

    app = create_app(settings)
    app.router.add_get("/crash", crash)
    client = await aiohttp_client(app)
    response = await client.get("/crash")
    body = await assert_problem(response, 500)
    assert "detail" not in body
    assert "secret" not in await response.text()
    assert "Traceback" not in await response.text()


async def test_slow_handler_is_504(
    aiohttp_client: AiohttpClient, settings: Settings
) -> None:
    async def slow(_request: web.Request) -> web.Response:
        await asyncio.sleep(5)
        return web.Response()

    app = create_app(settings.model_copy(update={"request_timeout": 0.05}))
    app.router.add_get("/slow", slow)
    client = await aiohttp_client(app)
    await assert_problem(await client.get("/slow"), 504)
