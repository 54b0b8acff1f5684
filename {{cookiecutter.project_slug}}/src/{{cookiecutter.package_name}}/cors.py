"""Cross-origin requests: off unless CORS_ORIGINS names the browser origins allowed to call."""

from collections.abc import Iterable

import aiohttp_cors
from aiohttp import web
{%- if cookiecutter.use_redis %}

from .ratelimit import RATE_LIMIT_HEADERS
{%- endif %}


def setup_cors(app: web.Application, origins: Iterable[str]) -> None:
    """Allow the API to be called from `origins`; preflight requests are answered for them."""
    options = aiohttp_cors.ResourceOptions(  # type: ignore[no-untyped-call]
        allow_methods=("GET", "POST", "PUT", "PATCH", "DELETE"),
        allow_headers=("Content-Type", "If-Match", "X-Request-ID"),
{%- if cookiecutter.use_redis %}
        expose_headers=("ETag", "Location", "X-Request-ID", "Retry-After", *RATE_LIMIT_HEADERS),
{%- else %}
        expose_headers=("ETag", "Location", "X-Request-ID", "Retry-After"),
{%- endif %}
        max_age=600,
    )
    cors = aiohttp_cors.setup(app, defaults=dict.fromkeys(origins, options))
    for route in list(app.router.routes()):
        cors.add(route)
