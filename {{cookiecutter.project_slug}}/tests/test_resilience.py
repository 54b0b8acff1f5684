"""Hostile input and cross-origin calls: limits hold, CORS stays closed unless opened."""

import pytest
from pytest_aiohttp import AiohttpClient

from {{ cookiecutter.package_name }}.app import create_app
from {{ cookiecutter.package_name }}.settings import Settings

from .helpers import Client

ITEMS = "/api/v1/items"


async def test_oversized_headers_are_refused_and_the_server_carries_on(
    client: Client,
) -> None:
    response = await client.get("/livez", headers={"X-Padding": "x" * 20_000})
    assert response.status in (400, 431)
    assert (await client.get("/livez")).status == 200


async def test_cors_is_off_by_default(client: Client) -> None:
    response = await client.get(ITEMS, headers={"Origin": "https://elsewhere.example"})
    assert "Access-Control-Allow-Origin" not in response.headers
    preflight = await client.options(
        ITEMS,
        headers={
            "Origin": "https://elsewhere.example",
            "Access-Control-Request-Method": "POST",
        },
    )
    assert preflight.status in (404, 405)


@pytest.fixture
async def cors_client(aiohttp_client: AiohttpClient, settings: Settings) -> Client:
    allowed = settings.model_copy(update={"cors_origins": ["https://app.example"]})
    return await aiohttp_client(create_app(allowed))


async def test_cors_allows_only_the_listed_origins(cors_client: Client) -> None:
    allowed = await cors_client.get(ITEMS, headers={"Origin": "https://app.example"})
    assert allowed.headers["Access-Control-Allow-Origin"] == "https://app.example"
    assert "ETag" in allowed.headers["Access-Control-Expose-Headers"]
    other = await cors_client.get(ITEMS, headers={"Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in other.headers


async def test_cors_preflight_answers_the_listed_origin(cors_client: Client) -> None:
    headers = {
        "Access-Control-Request-Method": "PATCH",
        "Access-Control-Request-Headers": "If-Match",
    }
    ok = await cors_client.options(
        f"{ITEMS}/1", headers={"Origin": "https://app.example", **headers}
    )
    assert ok.status == 200
    assert "PATCH" in ok.headers["Access-Control-Allow-Methods"]
    refused = await cors_client.options(
        f"{ITEMS}/1", headers={"Origin": "https://evil.example", **headers}
    )
    assert refused.status == 403


def test_cors_origins_are_read_comma_separated(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CORS_ORIGINS", "https://a.example, https://b.example")
    settings = Settings(_env_file=None)
    assert settings.cors_origins == ["https://a.example", "https://b.example"]
