"""Rate limiting against a real Redis: per client and window, 429 over the limit, fails open."""

import asyncio
import logging
from typing import Any

import pytest
from pydantic import SecretStr
from pytest_aiohttp import AiohttpClient

from {{ cookiecutter.package_name }}.app import create_app
from {{ cookiecutter.package_name }}.cache import redis_key
from {{ cookiecutter.package_name }}.routing import endpoints_key
from {{ cookiecutter.package_name }}.settings import Settings, settings_key

from .helpers import Client, assert_problem

API = "/api/v1/items"


async def limited(
    aiohttp_client: AiohttpClient, settings: Settings, **changes: Any
) -> Client:
    """A client of an app limited to 3 requests per minute, unless `changes` say otherwise."""
    changes = {"rate_limit": 3, **changes}
    return await aiohttp_client(create_app(settings.model_copy(update=changes)))


async def test_the_limit_is_off_by_default(client: Client) -> None:
    assert Settings(_env_file=None).rate_limit == 0
    for _ in range(10):
        response = await client.get(API)
        assert response.status == 200
        assert "RateLimit-Limit" not in response.headers
    pattern = f"{client.app[settings_key].cache_prefix}ratelimit:*"
    assert [key async for key in client.app[redis_key].scan_iter(pattern)] == []


async def test_requests_under_the_limit_pass_and_say_what_is_left(
    aiohttp_client: AiohttpClient, settings: Settings
) -> None:
    client = await limited(aiohttp_client, settings)
    left = []
    for _ in range(3):
        response = await client.get(API)
        assert response.status == 200
        assert response.headers["RateLimit-Limit"] == "3"
        assert 1 <= int(response.headers["RateLimit-Reset"]) <= 60
        left.append(response.headers["RateLimit-Remaining"])
    assert left == ["2", "1", "0"]


async def test_over_the_limit_is_429_with_retry_after(
    aiohttp_client: AiohttpClient, settings: Settings
) -> None:
    client = await limited(aiohttp_client, settings)
    for _ in range(3):
        assert (await client.get(API)).status == 200
    response = await client.post(API, json={"name": "never made"})
    body = await assert_problem(response, 429)
    assert 1 <= int(response.headers["Retry-After"]) <= 60
    assert response.headers["RateLimit-Remaining"] == "0"
    assert "More than 3 requests" in body["detail"]
    assert (await client.get(API)).status == 429


async def test_error_answers_count_and_carry_the_headers(
    aiohttp_client: AiohttpClient, settings: Settings
) -> None:
    client = await limited(aiohttp_client, settings)
    response = await client.get(f"{API}/999999")
    await assert_problem(response, 404)
    assert response.headers["RateLimit-Remaining"] == "2"


async def test_the_window_resets(
    aiohttp_client: AiohttpClient, settings: Settings
) -> None:
    client = await limited(aiohttp_client, settings, rate_limit=1, rate_limit_window=1)
    assert (await client.get(API)).status == 200
    refused = await client.get(API)
    assert refused.status == 429
    assert refused.headers["Retry-After"] == "1"
    await asyncio.sleep(1.1)
    assert (await client.get(API)).status == 200


async def test_probes_metrics_and_docs_are_not_counted(
    aiohttp_client: AiohttpClient, settings: Settings
) -> None:
    client = await limited(aiohttp_client, settings, rate_limit=1)
    exempt = [
        endpoint.path
        for endpoint in client.app[endpoints_key]
        if endpoint.tag in {"health", "monitoring", "docs"} and "{" not in endpoint.path
    ]
    assert "/livez" in exempt
    assert "/docs" in exempt
    for path in exempt:
        for _ in range(3):
            response = await client.get(path)
            assert response.status == 200, path
            assert "RateLimit-Limit" not in response.headers, path
    assert (await client.get(API)).status == 200
    assert (await client.get(API)).status == 429


async def test_x_forwarded_for_is_ignored_without_trusted_proxies(
    aiohttp_client: AiohttpClient, settings: Settings
) -> None:
    client = await limited(aiohttp_client, settings, rate_limit=1)
    assert (
        await client.get(API, headers={"X-Forwarded-For": "198.51.100.1"})
    ).status == 200
    # A client cannot make itself a new one by claiming another address.
    assert (
        await client.get(API, headers={"X-Forwarded-For": "198.51.100.2"})
    ).status == 429


async def test_behind_a_trusted_proxy_the_address_it_saw_is_the_client(
    aiohttp_client: AiohttpClient, settings: Settings
) -> None:
    client = await limited(aiohttp_client, settings, rate_limit=1, trusted_proxies=1)
    # The proxy appends the address it saw; what the client wrote before it is not trusted.
    spoofed = {"X-Forwarded-For": "203.0.113.7, 198.51.100.1"}
    assert (await client.get(API, headers=spoofed)).status == 200
    assert (
        await client.get(API, headers={"X-Forwarded-For": "198.51.100.1"})
    ).status == 429
    assert (
        await client.get(API, headers={"X-Forwarded-For": "198.51.100.2"})
    ).status == 200
    # Not through the proxy (or a header that is not an address): the peer is the client.
    assert (
        await client.get(API, headers={"X-Forwarded-For": "not an address"})
    ).status == 200
    assert (await client.get(API)).status == 429


async def test_keys_carry_the_prefix_and_expire_with_the_window(
    aiohttp_client: AiohttpClient, settings: Settings
) -> None:
    client = await limited(aiohttp_client, settings, rate_limit_window=30)
    await client.get(API)
    redis = client.app[redis_key]
    key = f"{settings.cache_prefix}ratelimit:127.0.0.1"
    assert await redis.get(key) == b"1"
    assert 0 < await redis.ttl(key) <= 30


async def test_requests_pass_when_redis_is_down(
    aiohttp_client: AiohttpClient, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    down = {"redis_url": SecretStr("redis://127.0.0.1:1/0"), "redis_timeout": 1}
    client = await limited(aiohttp_client, settings, rate_limit=1, **down)
    with caplog.at_level(logging.WARNING):
        for _ in range(3):
            response = await client.get(API)
            assert response.status == 200
            assert "RateLimit-Limit" not in response.headers
    assert "rate limit skipped: ConnectionError" in caplog.text
