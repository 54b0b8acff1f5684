"""Cross-origin requests: off unless CORS_ORIGINS names the browser origins allowed to call.

Set up last, once every component has added its routes and the headers it wants browsers to
read (`expose_headers`).
"""

from collections.abc import Iterable

import aiohttp_cors
from aiohttp import web

from .settings import settings_key

exposed_key = web.AppKey("exposed_headers", list[str])


def expose_headers(app: web.Application, names: Iterable[str]) -> None:
    """Let the browser pages of allowed origins read these response headers too."""
    app.setdefault(exposed_key, []).extend(names)


def setup_cors(app: web.Application) -> None:
    """Allow the API to be called from CORS_ORIGINS; preflight requests are answered for them."""
    origins = app[settings_key].cors_origins
    if not origins:
        return
    exposed = (
        "ETag",
        "Location",
        "X-Request-ID",
        "Retry-After",
        *app.get(exposed_key, []),
    )
    options = aiohttp_cors.ResourceOptions(  # type: ignore[no-untyped-call]
        allow_methods=("GET", "POST", "PUT", "PATCH", "DELETE"),
        allow_headers=("Content-Type", "If-Match", "X-Request-ID"),
        expose_headers=exposed,
        max_age=600,
    )
    cors = aiohttp_cors.setup(app, defaults=dict.fromkeys(origins, options))
    for route in list(app.router.routes()):
        cors.add(route)
