"""Shared test helpers: the client type and the problem+json assertions."""

from http import HTTPStatus
from typing import Any, TypeAlias

from aiohttp import ClientResponse, web
from aiohttp.test_utils import TestClient

Client: TypeAlias = TestClient[web.Request, web.Application]


async def assert_problem(response: ClientResponse, status: int) -> dict[str, Any]:
    """Check that `response` is an RFC 9457 problem with `status`; return its body."""
    assert response.status == status
    assert response.content_type == "application/problem+json"
    body: dict[str, Any] = await response.json(content_type=None)
    assert body["type"] == "about:blank"
    assert body["title"] == HTTPStatus(status).phrase
    assert body["status"] == status
    return body


async def create_item(client: Client, name: str, description: str | None = None) -> dict[str, Any]:
    """POST an item and return the created representation."""
    response = await client.post("/api/v1/items", json={"name": name, "description": description})
    assert response.status == 201
    body: dict[str, Any] = await response.json()
    return body
