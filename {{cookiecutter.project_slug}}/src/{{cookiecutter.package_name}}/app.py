"""create_app(settings): wires settings, resources, middlewares and routes; nothing else."""

from aiohttp import web

from . import health{% if cookiecutter.use_metrics %}, metrics{% endif %}, openapi
{% if cookiecutter.use_redis %}from .cache import redis_context
{% endif %}from .cors import setup_cors
{% if cookiecutter.database != "none" %}from .db import database_context
{% endif %}from .items import views as items
from .items.context import items_context
from .middlewares import (
    problem_middleware,
    request_id_middleware,
    set_security_headers,
    timeout_middleware,
)
from .routing import add_endpoints
from .settings import Settings, settings_key


def create_app(settings: Settings) -> web.Application:
    """Build the application; resources open on startup and close on cleanup."""
{%- if cookiecutter.use_metrics %}
    collectors = metrics.Metrics()
{%- endif %}
    app = web.Application(
        client_max_size=settings.client_max_size,
        middlewares=[
            request_id_middleware,
{%- if cookiecutter.use_metrics %}
            metrics.metrics_middleware(collectors),
{%- endif %}
            problem_middleware,
            timeout_middleware(settings.request_timeout),
        ],
    )
    app[settings_key] = settings
{%- if cookiecutter.use_metrics %}
    app[metrics.metrics_key] = collectors
{%- endif %}
{%- if cookiecutter.database != "none" %}
    app.cleanup_ctx.append(database_context)
{%- endif %}
{%- if cookiecutter.use_redis %}
    app.cleanup_ctx.append(redis_context)
{%- endif %}
    app.cleanup_ctx.append(items_context)
    app.on_response_prepare.append(set_security_headers)

    endpoints = [
        *health.ENDPOINTS,
        *items.ENDPOINTS,
{%- if cookiecutter.use_metrics %}
        *metrics.ENDPOINTS,
{%- endif %}
        *openapi.ENDPOINTS,
    ]
    add_endpoints(app.router, endpoints)
    openapi.setup_docs(app, endpoints)
    if settings.cors_origins:
        setup_cors(app, settings.cors_origins)
    return app
