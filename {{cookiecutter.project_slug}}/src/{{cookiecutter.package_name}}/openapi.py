"""The OpenAPI 3.1 document, built from the route table and the pydantic schemas, and /docs.

Swagger UI's files come from the swagger-ui-bundle-v2 package, so /docs works offline.
"""

import html
import json
from collections.abc import Iterable
from http import HTTPStatus
from importlib.metadata import metadata
from importlib.resources import files
from pathlib import Path
from typing import Any, Final

import orjson
from aiohttp import web
from pydantic import BaseModel
from pydantic.json_schema import JsonSchemaMode, models_json_schema
from swagger_ui_bundle import swagger_ui_path

from . import __version__
from .problems import PROBLEM_JSON
from .routing import Endpoint, add_endpoints, endpoints_key
from .schemas import Problem

# Free text lives in data, not code: the title in about.json, the description in the metadata.
TITLE: Final[str] = json.loads((files(__package__) / "about.json").read_text("utf-8"))[
    "title"
]
DESCRIPTION: Final = metadata("{{ cookiecutter.project_slug }}")["Summary"]
_REF: Final = "#/components/schemas/{model}"
# Answers without a body: Switching Protocols and No Content.
_NO_BODY: Final = frozenset({101, 204})
_ASSETS_DIR: Final = Path(str(swagger_ui_path))
_ASSETS: Final = frozenset({"swagger-ui-bundle.js", "swagger-ui.css"})

openapi_key = web.AppKey("openapi", bytes)
# The security scheme of the authenticated operations, by name, when a component brings one.
security_scheme_key = web.AppKey("security_scheme", tuple[str, dict[str, Any]])

# No favicon (`data:,`): a browser asks for none, so no 404 is logged in its console.
_DOCS_PAGE: Final = f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{html.escape(TITLE)} API</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/docs/static/swagger-ui.css">
</head>
<body>
<div id="swagger-ui"></div>
<script src="/docs/static/swagger-ui-bundle.js"></script>
<script src="/docs/swagger-init.js"></script>
</body>
</html>
""".encode()
_DOCS_INIT: Final = (
    b'window.ui = SwaggerUIBundle({url: "/openapi.json", dom_id: "#swagger-ui"});\n'
)


def _models(
    endpoints: Iterable[Endpoint],
) -> set[tuple[type[BaseModel], JsonSchemaMode]]:
    """Request bodies as they are validated, responses as they are serialised."""
    found: set[tuple[type[BaseModel], JsonSchemaMode]] = {(Problem, "serialization")}
    for endpoint in endpoints:
        if endpoint.body is not None:
            found.add((endpoint.body, "validation"))
        if endpoint.response is not None:
            found.add((endpoint.response, "serialization"))
    return found


def _parameters(endpoint: Endpoint) -> list[dict[str, Any]]:
    parameters: list[dict[str, Any]] = [
        {
            "name": name,
            "in": "path",
            "required": True,
            "schema": {"type": kind, "minimum": 0},
        }
        if kind == "integer"
        else {"name": name, "in": "path", "required": True, "schema": {"type": kind}}
        for name, kind in endpoint.path_params.items()
    ]
    if endpoint.query is not None:
        schema = endpoint.query.model_json_schema()
        required = set(schema.get("required", ()))
        for name, prop in schema["properties"].items():
            parameters.append(
                {
                    "name": name,
                    "in": "query",
                    "required": name in required,
                    "schema": prop,
                }
            )
    if 412 in endpoint.errors:
        parameters.append(
            {
                "name": "If-Match",
                "in": "header",
                "required": False,
                "description": "Apply only to this version (the item's ETag).",
                "schema": {"type": "string"},
            }
        )
    return parameters


def _operation(
    endpoint: Endpoint, refs: dict[type[BaseModel], dict[str, Any]], scheme: str | None
) -> dict[str, Any]:
    success: dict[str, Any] = {"description": HTTPStatus(endpoint.status).phrase}
    if endpoint.response is not None:
        success["content"] = {endpoint.media_type: {"schema": refs[endpoint.response]}}
    elif endpoint.status not in _NO_BODY:
        kind = "object" if endpoint.media_type == "application/json" else "string"
        success["content"] = {endpoint.media_type: {"schema": {"type": kind}}}
    if endpoint.headers:
        success["headers"] = {
            name: {"schema": {"type": "string"}} for name in endpoint.headers
        }
    responses = {str(endpoint.status): success}
    secured = scheme is not None and endpoint.authenticated
    for status in sorted({*endpoint.errors, 401} if secured else endpoint.errors):
        responses[str(status)] = {
            "description": HTTPStatus(status).phrase,
            "content": {PROBLEM_JSON: {"schema": refs[Problem]}},
        }
    operation: dict[str, Any] = {
        "operationId": f"{endpoint.tag}.{endpoint.handler.__name__.rstrip('_')}",
        "summary": endpoint.summary,
        "tags": [endpoint.tag],
        "responses": responses,
    }
    if secured:
        operation["security"] = [{scheme: []}]
    if endpoint.description:
        operation["description"] = endpoint.description
    if parameters := _parameters(endpoint):
        operation["parameters"] = parameters
    if endpoint.body is not None:
        operation["requestBody"] = {
            "required": True,
            "content": {endpoint.body_media_type: {"schema": refs[endpoint.body]}},
        }
    return operation


def build_document(
    endpoints: Iterable[Endpoint], security: tuple[str, dict[str, Any]] | None = None
) -> dict[str, Any]:
    """The OpenAPI 3.1 document describing exactly these endpoints (the documented ones).

    `security` names the scheme that the authenticated endpoints require, and describes it.
    """
    endpoints = [endpoint for endpoint in endpoints if endpoint.documented]
    models = sorted(_models(endpoints), key=lambda pair: (pair[0].__name__, pair[1]))
    refs_by_mode, definitions = models_json_schema(models, ref_template=_REF)
    refs = {model: refs_by_mode[(model, mode)] for model, mode in models}
    paths: dict[str, dict[str, Any]] = {}
    for endpoint in endpoints:
        paths.setdefault(endpoint.openapi_path, {})[endpoint.method.lower()] = (
            _operation(endpoint, refs, security and security[0])
        )
    components: dict[str, Any] = {"schemas": definitions.get("$defs", {})}
    if security is not None:
        components["securitySchemes"] = dict([security])
    return {
        "openapi": "3.1.0",
        "info": {"title": TITLE, "version": __version__, "description": DESCRIPTION},
        "paths": paths,
        "components": components,
    }


async def openapi_view(request: web.Request) -> web.Response:
    """The document, serialised once at start."""
    return web.Response(body=request.app[openapi_key], content_type="application/json")


async def docs_view(_request: web.Request) -> web.Response:
    """Swagger UI's page."""
    return web.Response(body=_DOCS_PAGE, content_type="text/html")


async def docs_asset_view(request: web.Request) -> web.StreamResponse:
    """One of Swagger UI's files from the installed package."""
    name = request.match_info["name"]
    if name not in _ASSETS:
        raise web.HTTPNotFound
    return web.FileResponse(_ASSETS_DIR / name)


async def docs_init_view(_request: web.Request) -> web.Response:
    """The script that points Swagger UI at /openapi.json (CSP forbids inline scripts)."""
    return web.Response(body=_DOCS_INIT, content_type="text/javascript")


ENDPOINTS = (
    Endpoint(method="GET", path="/openapi.json", handler=openapi_view,
             summary="This OpenAPI document", tag="docs"),
    Endpoint(method="GET", path="/docs", handler=docs_view, summary="Swagger UI", tag="docs",
             media_type="text/html", documented=False),
    Endpoint(method="GET", path="/docs/swagger-init.js", handler=docs_init_view,
             summary="Swagger UI start-up script", tag="docs", media_type="text/javascript",
             documented=False),
    Endpoint(method="GET", path="/docs/static/{name}", handler=docs_asset_view,
             summary="Swagger UI files", tag="docs", media_type="text/plain", errors=(404,),
             documented=False),
)  # fmt: skip


async def _document(app: web.Application) -> None:
    """on_startup: every component has added its endpoints by now."""
    endpoints: list[Endpoint] = app[endpoints_key]
    app[openapi_key] = orjson.dumps(
        build_document(endpoints, app.get(security_scheme_key))
    )


def setup_docs(app: web.Application) -> None:
    """Serve the OpenAPI document of the app's endpoints, serialised once, and Swagger UI."""
    add_endpoints(app, ENDPOINTS)
    app.on_startup.append(_document)
