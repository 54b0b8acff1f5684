"""The route table: each endpoint registered on the router and described in OpenAPI from here."""

import re
from collections.abc import Iterable
from dataclasses import dataclass

from aiohttp import web
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
    query: type[BaseModel] | None = None
    status: int = 200
    response: type[BaseModel] | None = None
    media_type: str = "application/json"
    errors: tuple[int, ...] = ()
    headers: tuple[str, ...] = ()
    description: str | None = None

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


def add_endpoints(router: web.UrlDispatcher, endpoints: Iterable[Endpoint]) -> None:
    """Register each endpoint on the router."""
    for endpoint in endpoints:
        router.add_route(endpoint.method, endpoint.path, endpoint.handler)
