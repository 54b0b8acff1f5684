"""HTTP at the edge of the app: HEAD wherever GET is served."""

import re

from aiohttp import hdrs, web

from .helpers import Client, create_item

# Headers that differ between any two answers (the length too, for a page counting requests).
VOLATILE = {hdrs.DATE, "X-Request-ID", hdrs.CONTENT_LENGTH}


def get_paths(app: web.Application, samples: dict[str, str]) -> list[str]:
    """A URL for every GET route, its path parameters filled from `samples`."""
    paths = []
    for route in app.router.routes():
        if route.method != hdrs.METH_GET or route.resource is None:
            continue
        info = route.resource.get_info()
        path = info.get("path") or info["formatter"]
        names = re.findall(r"\{(\w+)\}", path)
        missing = [name for name in names if name not in samples]
        assert not missing, f"give test_http.py a sample value for {missing} of {path}"
        paths.append(path.format(**{name: samples[name] for name in names}))
    return paths


async def test_head_answers_every_get_route_like_get_without_a_body(
    client: Client,
) -> None:
    item = await create_item(client, "lamp")
    samples = {"item_id": str(item["id"]), "name": "swagger-ui.css"}
    paths = get_paths(client.app, samples)
    assert {"/livez", "/docs", f"/api/v1/items/{item['id']}"} <= set(paths)
    for path in paths:
        got = await client.get(path)
        await got.read()
        head = await client.head(path)
        assert head.status == got.status, path
        assert await head.read() == b"", path
        same = {
            name: value for name, value in got.headers.items() if name not in VOLATILE
        }
        assert {
            name: value for name, value in head.headers.items() if name not in VOLATILE
        } == (same), path
        assert (hdrs.CONTENT_LENGTH in head.headers) == (
            hdrs.CONTENT_LENGTH in got.headers
        ), path
