"""create_app(settings): the application, one line per component; nothing else.

Each `setup_*` adds what its component brings: resources opened with the app (cleanup
contexts), routes, middlewares, readiness probes, the problems its errors become.
"""

from aiohttp import web

{% if cookiecutter.auth == "jwt" %}from .auth import setup_auth
{% endif %}{% if cookiecutter.auth == "jwt" and cookiecutter.__redis %}from .auth.throttle import setup_login_throttle
{% endif %}{% if cookiecutter.__redis %}from .cache import setup_redis
{% endif %}from .cors import setup_cors
{% if cookiecutter.database != "none" %}from .db import setup_database
{% endif %}{% if cookiecutter.use_websocket and cookiecutter.__redis %}from .feedrelay import setup_feed_relay
{% endif %}from .health import setup_health
{% if cookiecutter.__redis %}from .items.cached import setup_item_cache
{% endif %}from .items.context import setup_items
{% if cookiecutter.use_websocket %}from .items.events import setup_item_feed
{% endif %}{% if cookiecutter.database == "none" %}from .items.memory import memory_store
{% else %}from .items.sql import sql_store
{% endif %}{% if cookiecutter.task_queue == "arq" %}from .jobqueue import setup_queue
{% endif %}{% if cookiecutter.use_metrics %}from .metrics import setup_metrics
{% endif %}from .middlewares import setup_requests
from .openapi import setup_docs
{% if cookiecutter.__redis %}from .ratelimit import setup_rate_limit
{% endif %}{% if cookiecutter.use_sentry %}from .sentry import setup_sentry
{% endif %}from .settings import Settings, settings_key
{% if cookiecutter.use_tracing %}from .tracing import setup_tracing
{% endif %}

def create_app(settings: Settings) -> web.Application:
    """Build the application; resources open on startup and close on cleanup, in this order."""
    app = web.Application(client_max_size=settings.client_max_size)
    app[settings_key] = settings
    setup_requests(app)
{%- if cookiecutter.use_sentry %}
    setup_sentry(app)
{%- endif %}
{%- if cookiecutter.use_metrics %}
    setup_metrics(app)
{%- endif %}
{%- if cookiecutter.database != "none" %}
    setup_database(app)
{%- endif %}
{%- if cookiecutter.__redis %}
    setup_redis(app)
    setup_rate_limit(app)
    setup_item_cache(app)
{%- endif %}
{%- if cookiecutter.task_queue == "arq" %}
    setup_queue(app)
{%- endif %}
{%- if cookiecutter.use_websocket %}
    setup_item_feed(app)
{%- endif %}
{%- if cookiecutter.use_websocket and cookiecutter.__redis %}
    setup_feed_relay(app)
{%- endif %}
{%- if cookiecutter.database == "none" %}
    setup_items(app, memory_store)
{%- else %}
    setup_items(app, sql_store)
{%- endif %}
{%- if cookiecutter.use_tracing %}
    setup_tracing(app)
{%- endif %}
    setup_health(app)
    setup_docs(app)
    setup_cors(app)
{%- if cookiecutter.auth == "jwt" %}
    setup_auth(app)
{%- endif %}
{%- if cookiecutter.auth == "jwt" and cookiecutter.__redis %}
    setup_login_throttle(app)
{%- endif %}
    return app
