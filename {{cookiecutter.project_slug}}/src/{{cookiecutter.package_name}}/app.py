"""create_app(settings): wires settings, resources, middlewares and routes; nothing else."""

from aiohttp import web

from . import health{% if cookiecutter.use_metrics %}, metrics{% endif %}, openapi
{% if cookiecutter.use_redis %}from .cache import redis_context
{% endif %}from .cors import setup_cors
{% if cookiecutter.database != "none" %}from .db import database_context
{% endif %}{% if cookiecutter.use_websocket %}from .feed import setup_feed
from .items import events as item_events
{% endif %}from .items import views as items
from .items.context import items_context
{% if cookiecutter.task_queue == "arq" %}from .jobqueue import queue_context
{% endif %}from .middlewares import problem_middleware, request_middleware
{% if cookiecutter.use_redis %}from .ratelimit import rate_limit_middleware, setup_rate_limit
{% endif %}from .routing import add_endpoints
{% if cookiecutter.use_sentry %}from .sentry import setup_sentry
{% endif %}from .settings import Settings, settings_key
{% if cookiecutter.use_tracing %}from .tracing import setup_tracing
{% endif %}

def create_app(settings: Settings) -> web.Application:
    """Build the application; resources open on startup and close on cleanup."""
{%- if cookiecutter.use_metrics %}
    collectors = metrics.Metrics()
    middlewares = [request_middleware(collectors)]
{%- else %}
    middlewares = [request_middleware()]
{%- endif %}
{%- if cookiecutter.use_redis %}
    if settings.rate_limit:
        # Between the two: its 429 gets an id and headers, and error answers count against it.
        middlewares.append(rate_limit_middleware)
{%- endif %}
{%- if cookiecutter.use_websocket %}
    middlewares.append(problem_middleware(settings.request_timeout, unbounded=[item_events.follow]))
{%- else %}
    middlewares.append(problem_middleware(settings.request_timeout))
{%- endif %}
    app = web.Application(client_max_size=settings.client_max_size, middlewares=middlewares)
    app[settings_key] = settings
{%- if cookiecutter.use_sentry %}
    setup_sentry(app, settings)
{%- endif %}
{%- if cookiecutter.use_metrics %}
    app[metrics.metrics_key] = collectors
{%- endif %}
{%- if cookiecutter.database != "none" %}
    app.cleanup_ctx.append(database_context)
{%- endif %}
{%- if cookiecutter.use_redis %}
    app.cleanup_ctx.append(redis_context)
{%- endif %}
{%- if cookiecutter.task_queue == "arq" %}
    app.cleanup_ctx.append(queue_context)
{%- endif %}
{%- if cookiecutter.use_websocket %}
    setup_feed(app, settings.feed_queue_size)
{%- endif %}
    app.cleanup_ctx.append(items_context)
{%- if cookiecutter.use_tracing %}
    setup_tracing(app, settings)
{%- endif %}

    endpoints = [
        *health.ENDPOINTS,
        *items.ENDPOINTS,
{%- if cookiecutter.use_websocket %}
        *item_events.ENDPOINTS,
{%- endif %}
{%- if cookiecutter.use_metrics %}
        *metrics.ENDPOINTS,
{%- endif %}
        *openapi.ENDPOINTS,
    ]
    add_endpoints(app.router, endpoints)
    openapi.setup_docs(app, endpoints)
    if settings.cors_origins:
        setup_cors(app, settings.cors_origins)
{%- if cookiecutter.use_redis %}
    if settings.rate_limit:
        setup_rate_limit(app)
{%- endif %}
    return app
