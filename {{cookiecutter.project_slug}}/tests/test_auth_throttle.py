"""The token endpoint's rate limit in Redis: per client and per username, 429 with Retry-After."""

import pytest
from pytest_aiohttp import AiohttpClient

from {{ cookiecutter.package_name }}.app import create_app
from {{ cookiecutter.package_name }}.settings import Settings

from .helpers import Client, assert_problem

TOKEN = "/api/v1/auth/token"


@pytest.fixture
async def limited(aiohttp_client: AiohttpClient, settings: Settings) -> Client:
    """A client of an app allowing 2 login attempts per window."""
    return await aiohttp_client(
        create_app(settings.model_copy(update={"login_rate_limit": 2}))
    )


async def log_in(
    client: Client, username: str, forwarded_for: str | None = None
) -> int:
    form = {
        "grant_type": "password",
        "username": username,
        "password": "wrong password",
    }
    headers = {"X-Forwarded-For": forwarded_for} if forwarded_for else None
    response = await client.post(TOKEN, data=form, headers=headers)
    return response.status


async def test_a_username_gets_429_after_the_limit(limited: Client) -> None:
    assert [await log_in(limited, "ada@example.com") for _ in range(2)] == [400, 400]
    response = await limited.post(
        TOKEN,
        data={"grant_type": "password", "username": "ADA@example.com", "password": "x"},
    )
    body = await assert_problem(response, 429)
    assert 1 <= int(response.headers["Retry-After"]) <= 60
    assert "Too many login attempts" in body["detail"]


async def test_a_client_gets_429_whatever_the_usernames(limited: Client) -> None:
    statuses = [await log_in(limited, f"user{n}@example.com") for n in range(3)]
    assert statuses == [400, 400, 429]


async def test_the_openapi_document_names_the_429(limited: Client) -> None:
    document = await (await limited.get("/openapi.json")).json()
    assert "429" in document["paths"][TOKEN]["post"]["responses"]


async def test_no_limit_when_it_is_off(client: Client) -> None:
    statuses = [await log_in(client, "ada@example.com") for _ in range(4)]
    assert statuses == [400] * 4
