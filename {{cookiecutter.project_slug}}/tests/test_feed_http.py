"""The live item feed's HTTP side: the upgrade, its headers, origins, the OpenAPI entry."""

import base64
import os

import pytest
from aiohttp import WSServerHandshakeError

from {{ cookiecutter.package_name }}.items.events import FEED_PATH

from .helpers import Client, assert_problem


async def test_a_plain_get_is_426_naming_the_upgrade(client: Client) -> None:
    response = await client.get(FEED_PATH)
    await assert_problem(response, 426)
    assert response.headers["Upgrade"] == "websocket"


async def test_the_handshake_carries_the_security_headers(client: Client) -> None:
    key = base64.b64encode(os.urandom(16)).decode()
    upgrade = {
        "Upgrade": "websocket",
        "Connection": "Upgrade",
        "Sec-WebSocket-Version": "13",
        "Sec-WebSocket-Key": key,
    }
    response = await client.get(FEED_PATH, headers=upgrade)
    try:
        assert response.status == 101
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Content-Security-Policy"].startswith(
            "default-src 'none'"
        )
    finally:
        response.close()


async def test_a_page_of_another_site_is_refused(client: Client) -> None:
    with pytest.raises(WSServerHandshakeError) as refused:
        await client.ws_connect(FEED_PATH, origin="https://elsewhere.example")
    assert refused.value.status == 403
    same_site = f"http://{client.host}:{client.port}"
    await (await client.ws_connect(FEED_PATH, origin=same_site)).close()


async def test_the_document_describes_the_feed_as_a_websocket(client: Client) -> None:
    operation = (await (await client.get("/openapi.json")).json())["paths"][FEED_PATH][
        "get"
    ]
    assert operation["responses"]["101"] == {"description": "Switching Protocols"}
    assert {"403", "426"} <= set(operation["responses"])
    assert "WebSocket" in operation["description"]
