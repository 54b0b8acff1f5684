"""Request ids, logs bound to them, and the headers every answer carries."""

import pytest
from aiohttp import web
from pytest_aiohttp import AiohttpClient

from {{ cookiecutter.package_name }}.app import create_app
from {{ cookiecutter.package_name }}.settings import Settings

from .helpers import Client


async def test_request_id_is_generated_when_absent(client: Client) -> None:
    first = await client.get("/livez")
    second = await client.get("/livez")
    assert len(first.headers["X-Request-ID"]) == 32
    assert first.headers["X-Request-ID"] != second.headers["X-Request-ID"]


async def test_request_id_from_the_client_is_echoed(client: Client) -> None:
    response = await client.get("/livez", headers={"X-Request-ID": "abc-123.4"})
    assert response.headers["X-Request-ID"] == "abc-123.4"


@pytest.mark.parametrize("unsafe", ["has space", "x" * 200, "new\tline"])
async def test_unsafe_request_id_is_replaced(client: Client, unsafe: str) -> None:
    response = await client.get("/livez", headers={"X-Request-ID": unsafe})
    assert response.headers["X-Request-ID"] != unsafe
    assert len(response.headers["X-Request-ID"]) == 32


async def test_request_id_is_on_error_answers_too(client: Client) -> None:
    response = await client.get("/nowhere", headers={"X-Request-ID": "trace-me"})
    assert response.status == 404
    assert response.headers["X-Request-ID"] == "trace-me"


async def test_security_headers_on_api_answers(client: Client) -> None:
    response = await client.get("/api/v1/items")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert response.headers["Content-Security-Policy"].startswith("default-src 'none'")


async def test_server_header_reveals_no_versions(client: Client) -> None:
    response = await client.get("/livez")
    assert response.headers["Server"] == "{{ cookiecutter.project_slug }}"


async def test_a_streamed_answer_carries_the_headers_without_its_handler_asking(
    aiohttp_client: AiohttpClient, settings: Settings
) -> None:
    async def streamed(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse()
        await response.prepare(request)  # sent here, before any middleware sees it
        await response.write(b"part one, ")
        await response.write(b"part two")
        return response

    app = create_app(settings)
    app.router.add_get("/streamed", streamed)
    client = await aiohttp_client(app)
    response = await client.get("/streamed", headers={"X-Request-ID": "stream-1"})
    assert await response.read() == b"part one, part two"
    assert response.headers["X-Request-ID"] == "stream-1"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Server"] == "{{ cookiecutter.project_slug }}"
