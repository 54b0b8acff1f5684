"""The OpenAPI document matches the real routes, and /docs works with no internet."""

import html
from importlib.metadata import metadata
from typing import Any

from aiohttp import web

from {{ cookiecutter.package_name }}.openapi import TITLE

from .helpers import Client

# Read at import: package metadata comes from files, which the event loop must not wait on.
DISTRIBUTION = metadata("{{ cookiecutter.project_slug }}")


def registered_routes(app: web.Application) -> set[tuple[str, str]]:
    """(method, OpenAPI path) of every route except static files and HEAD (GET's twin)."""
    routes = set()
    for route in app.router.routes():
        resource = route.resource
        if (
            resource is None
            or isinstance(resource, web.StaticResource)
            or route.method == "HEAD"
        ):
            continue
        info = resource.get_info()
        path = info.get("path") or info["formatter"]
        routes.add((route.method.lower(), path))
    return routes


async def document(client: Client) -> dict[str, Any]:
    response = await client.get("/openapi.json")
    assert response.status == 200
    body: dict[str, Any] = await response.json()
    return body


async def test_document_is_openapi_3_1_with_title_and_version(client: Client) -> None:
    doc = await document(client)
    assert doc["openapi"] == "3.1.0"
    assert doc["info"]["title"] == TITLE
    assert doc["info"]["description"] == DISTRIBUTION["Summary"]
    assert doc["info"]["version"] == DISTRIBUTION["Version"]


async def test_document_lists_exactly_the_api_routes(client: Client) -> None:
    doc = await document(client)
    documented = {
        (method, path)
        for path, operations in doc["paths"].items()
        for method in operations
    }
    # The documentation's own pages and files are for people, not operations of the API.
    pages = {
        route for route in registered_routes(client.app) if route[1].startswith("/docs")
    }
    assert pages >= {("get", "/docs"), ("get", "/docs/swagger-init.js")}
    assert documented == registered_routes(client.app) - pages


def references(node: object) -> set[str]:
    """Every `$ref` value anywhere in a JSON tree."""
    if isinstance(node, dict):
        found = {node["$ref"]} if isinstance(node.get("$ref"), str) else set()
        return found.union(*(references(value) for value in node.values()))
    if isinstance(node, list):
        return set().union(*(references(value) for value in node))
    return set()


async def test_every_schema_reference_resolves(client: Client) -> None:
    doc = await document(client)
    refs = references(doc)
    assert "#/components/schemas/ItemOut" in refs
    for ref in refs:
        assert ref.removeprefix("#/components/schemas/") in doc["components"]["schemas"]


async def test_item_endpoints_document_bodies_and_errors(client: Client) -> None:
    items = (await document(client))["paths"]["/api/v1/items/{item_id}"]
    assert set(items) == {"get", "put", "patch", "delete"}
    assert items["patch"]["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ItemPatch"
    }
    assert "412" in items["put"]["responses"]
    assert items["get"]["parameters"][0]["schema"]["type"] == "integer"
    problem = items["get"]["responses"]["404"]["content"]["application/problem+json"]
    assert problem["schema"] == {"$ref": "#/components/schemas/Problem"}


async def test_list_documents_its_bounded_query_parameters(client: Client) -> None:
    listing = (await document(client))["paths"]["/api/v1/items"]["get"]
    parameters = {p["name"]: p["schema"] for p in listing["parameters"]}
    assert parameters["limit"]["maximum"] == 100
    assert parameters["offset"]["minimum"] == 0


async def test_docs_page_uses_only_local_assets(client: Client) -> None:
    response = await client.get("/docs")
    assert response.status == 200
    assert response.content_type == "text/html"
    page = await response.text()
    assert "http://" not in page
    assert "https://" not in page
    for asset in ("/docs/static/swagger-ui-bundle.js", "/docs/static/swagger-ui.css"):
        assert asset in page
        served = await client.get(asset)
        assert served.status == 200
        assert len(await served.read()) > 10_000


async def test_docs_page_names_the_project_and_asks_for_no_icon(client: Client) -> None:
    page = await (await client.get("/docs")).text()
    assert f"<title>{html.escape(TITLE)} API</title>" in page
    # An empty data: icon: the browser requests no /favicon.ico, which would be a 404.
    assert '<link rel="icon" href="data:,">' in page
    assert "data:" in (await client.get("/docs")).headers["Content-Security-Policy"]


async def test_docs_start_up_script_points_at_the_document(client: Client) -> None:
    response = await client.get("/docs/swagger-init.js")
    assert response.status == 200
    assert '"/openapi.json"' in await response.text()
    assert "script-src" not in response.headers["Content-Security-Policy"]
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]
