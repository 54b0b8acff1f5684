"""The route table: each component adds its endpoints here, for the router and for OpenAPI."""

import re
from collections.abc import Iterable
from dataclasses import dataclass

from aiohttp import hdrs, web
from aiohttp.typedefs import Handler
from pydantic import BaseModel

_PARAM = re.compile(r"\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?::(?P<regex>[^{}]+))?\}")


@dataclass(frozen=True, slots=True, kw_only=True)
class Endpoint:
    """One method on one path, with what it reads and answers."""

    method: str
    path: str
    handler: Handler
    summary: str
    tag: str
    body: type[BaseModel] | None = None
    body_media_type: str = "application/json"
    query: type[BaseModel] | None = None
    status: int = 200
    response: type[BaseModel] | None = None
    media_type: str = "application/json"
    errors: tuple[int, ...] = ()
    headers: tuple[str, ...] = ()
    description: str | None = None
    # False for the routes that serve the documentation itself: not API operations.
    documented: bool = True
    # False for a connection held open on purpose (a stream): REQUEST_TIMEOUT does not cut it.
    timed: bool = True
    # True for the operations only a signed-in caller may use, in a service with authentication.
    authenticated: bool = False

    @property
    def openapi_path(self) -> str:
        """The path with aiohttp's `{name:regex}` written as OpenAPI's `{name}`."""
        return _PARAM.sub(lambda match: "{" + match["name"] + "}", self.path)

    @property
    def path_params(self) -> dict[str, str]:
        """Path parameter names mapped to their JSON type (integer when the regex is digits)."""
        return {
            match["name"]: "integer" if match["regex"] == r"\d+" else "string"
            for match in _PARAM.finditer(self.path)
        }


endpoints_key = web.AppKey("endpoints", list[Endpoint])


def add_endpoints(app: web.Application, endpoints: Iterable[Endpoint]) -> None:
    """Route each endpoint and keep it in the app's table, which the OpenAPI document describes.

    A GET route answers HEAD too (RFC 9110 9.3.2): same status and headers, no body.
    """
    table = app.setdefault(endpoints_key, [])
    for endpoint in endpoints:
        if endpoint.method == hdrs.METH_GET:
            app.router.add_get(endpoint.path, endpoint.handler, allow_head=True)
        else:
            app.router.add_route(endpoint.method, endpoint.path, endpoint.handler)
        table.append(endpoint)
