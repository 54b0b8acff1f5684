"""Prometheus metrics: labelled by route resource, method and status."""

import asyncio

from aiohttp import web
from pytest_aiohttp import AiohttpClient

from {{ cookiecutter.package_name }}.app import create_app
from {{ cookiecutter.package_name }}.settings import Settings

from .helpers import Client, create_item


def sample(name: str, value: float, **labels: str) -> str:
    """One line of the Prometheus text format."""
    inner = ",".join(f'{key}="{label}"' for key, label in labels.items())
    return name + "{" + inner + "} " + repr(value)


async def test_metrics_count_requests_by_route_template(client: Client) -> None:
    created = await create_item(client, "gauge")
    await client.get(f"/api/v1/items/{created['id']}")
    await client.get("/api/v1/items/999999")
    response = await client.get("/metrics")
    assert response.status == 200
    assert response.content_type == "text/plain"
    text = await response.text()
    by_id = "/api/v1/items/{item_id}"
    assert (
        sample("http_requests_total", 1.0, method="GET", route=by_id, status="200")
        in text
    )
    assert (
        sample("http_requests_total", 1.0, method="GET", route=by_id, status="404")
        in text
    )
    assert (
        sample(
            "http_requests_total",
            1.0,
            method="POST",
            route="/api/v1/items",
            status="201",
        )
        in text
    )
    assert "/api/v1/items/999999" not in text


async def test_latency_histogram_and_in_progress_gauge_are_exported(
    client: Client,
) -> None:
    await client.get("/livez")
    text = await (await client.get("/metrics")).text()
    assert (
        sample("http_request_duration_seconds_count", 1.0, method="GET", route="/livez")
        in text
    )
    assert "http_requests_in_progress 1.0" in text


async def test_unmatched_paths_share_one_label(client: Client) -> None:
    for n in range(3):
        await client.get(f"/random/{n}")
    text = await (await client.get("/metrics")).text()
    assert (
        sample(
            "http_requests_total", 3.0, method="GET", route="<unmatched>", status="404"
        )
        in text
    )


async def test_methods_the_app_does_not_know_share_one_label(client: Client) -> None:
    for method in ("BREW", "PURGE"):
        await client.request(method, "/livez")
    text = await (await client.get("/metrics")).text()
    assert 'method="other"' in text
    assert "BREW" not in text
    assert "PURGE" not in text


async def test_a_request_whose_client_hangs_up_is_noted_499_not_500(
    aiohttp_client: AiohttpClient, settings: Settings
) -> None:
    started = asyncio.Event()

    async def hang(_request: web.Request) -> web.Response:
        started.set()
        await asyncio.Event().wait()
        raise AssertionError

    app = create_app(settings)
    app.router.add_get("/hang", hang)
    client = await aiohttp_client(app, server_kwargs={"handler_cancellation": True})
    request = asyncio.ensure_future(client.get("/hang"))
    await started.wait()
    request.cancel()  # the client closes its connection; the server cancels the handler
    for _ in range(500):  # until the server has seen the hang-up
        text = await (await client.get("/metrics")).text()
        if 'route="/hang"' in text:
            break
        await asyncio.sleep(0.01)
    assert (
        sample("http_requests_total", 1.0, method="GET", route="/hang", status="499")
        in text
    )
