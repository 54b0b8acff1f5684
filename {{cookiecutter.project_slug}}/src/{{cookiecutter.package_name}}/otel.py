"""The OpenTelemetry SDK of the app: a server span per request, named after its route.
{%- if cookiecutter.database != "none" and cookiecutter.__redis %}

Database queries and Redis commands made for a request are child spans of its span.
{%- elif cookiecutter.database != "none" %}

Database queries made for a request are child spans of its span.
{%- elif cookiecutter.__redis %}

Redis commands made for a request are child spans of its span.
{%- endif %}

Imported by `tracing.setup_tracing` only when an endpoint is set. The middleware is added when
the app is made; the SDK (a tracer provider exporting OTLP over HTTP from a thread) and the
instrumentation start with the app and stop with it, sending the spans still queued. Beyond
the settings, the SDK reads its own OTEL_* variables from the environment: headers, timeout,
compression, sampler, resource attributes, propagators.
"""

import asyncio
import logging
from collections.abc import AsyncIterator
{%- if cookiecutter.database != "none" %}
from contextlib import AbstractContextManager
from functools import partial
{%- endif %}

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware
from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.instrumentation.aiohttp_server import (
    AioHttpServerInstrumentor,
    create_aiohttp_middleware,
)
{%- if cookiecutter.__redis %}
from opentelemetry.instrumentation.redis import RedisInstrumentor
{%- endif %}
from opentelemetry.sdk.resources import SERVICE_NAME, SERVICE_VERSION, Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter

from . import __version__
{%- if cookiecutter.__redis %}
from .cache import redis_key
{%- endif %}
{%- if cookiecutter.database != "none" %}
from .db import database_key
{%- endif %}
from .middlewares import observe_errors
from .settings import Settings, settings_key

tracer_provider_key = web.AppKey("tracer_provider", TracerProvider)
# Where spans go: OTLP over HTTP, unless an exporter is put here before the app starts (tests).
span_exporter_key = web.AppKey("span_exporter", SpanExporter)
_server_middleware_key: web.AppKey[Middleware] = web.AppKey("otel_server_middleware")
{%- if cookiecutter.database != "none" %}
DB_SYSTEM = "{{ cookiecutter.database }}"
{%- endif %}


def install_tracing(app: web.Application) -> None:
    """Add the server-span middleware now; the SDK starts with the app."""
    # First, so that the span covers the other middlewares and ends with the final status.
    app.middlewares.insert(0, server_span_middleware)
    app.cleanup_ctx.append(tracing_context)
    observe_errors(app, record_error)


def record_error(_request: web.Request, error: Exception) -> None:
    """Keep an error answered 500 on the request's span: the client learns nothing of it."""
    trace.get_current_span().record_exception(error)


class TraceIdFilter(logging.Filter):
    """Copies the current trace and span ids onto each record logged within a span."""

    def filter(self, record: logging.LogRecord) -> bool:
        span = trace.get_current_span().get_span_context()
        if span.is_valid:  # invalid (all zeros) outside a span
            record.trace_id = trace.format_trace_id(span.trace_id)
            record.span_id = trace.format_span_id(span.span_id)
        return True


@web.middleware
async def server_span_middleware(
    request: web.Request, handler: Handler
) -> web.StreamResponse:
    """OpenTelemetry's aiohttp middleware, made with the app's tracer provider at start-up."""
    return await request.config_dict[_server_middleware_key](request, handler)


{%- if cookiecutter.database != "none" %}


def database_span(tracer: trace.Tracer, sql: str) -> AbstractContextManager[object]:
    """A client span around one statement, named and described as OpenTelemetry says."""
    operation = sql.split(None, 1)[0].upper() if sql else "SQL"
    return tracer.start_as_current_span(
        operation,
        kind=trace.SpanKind.CLIENT,
        attributes={
            "db.system": DB_SYSTEM,
            "db.statement": sql,
            "db.operation": operation,
        },
    )
{%- endif %}


def traces_url(settings: Settings) -> str:
    """Where spans are posted, by the OTLP exporter's rules for these two variables."""
    if settings.otel_exporter_otlp_traces_endpoint:
        return settings.otel_exporter_otlp_traces_endpoint
    return settings.otel_exporter_otlp_endpoint.rstrip("/") + "/v1/traces"


def create_provider(
    settings: Settings, exporter: SpanExporter | None
) -> TracerProvider:
    """A tracer provider that sends its spans in batches from a thread (OTLP unless given).

    Blocking (resource detection and the exporter thread start in threads that are waited for,
    the exporter may read certificate files): call it off the event loop.
    """
    resource = Resource.create(
        {SERVICE_NAME: settings.otel_service_name, SERVICE_VERSION: __version__}
    )
    provider = TracerProvider(resource=resource)
    if exporter is None:
        exporter = OTLPSpanExporter(endpoint=traces_url(settings))
    provider.add_span_processor(BatchSpanProcessor(exporter))
    return provider


async def tracing_context(app: web.Application) -> AsyncIterator[None]:
    """Start the SDK and trace the app's clients; on cleanup, send what is left and stop."""
    exporter = app.get(span_exporter_key)
    provider = await asyncio.to_thread(create_provider, app[settings_key], exporter)
    app[tracer_provider_key] = provider
    app[_server_middleware_key] = create_aiohttp_middleware(provider)
    # For spans of the service's own code (`trace.get_tracer(__name__)`); the SDK takes the
    # first provider of the process and keeps it.
    if isinstance(trace.get_tracer_provider(), trace.ProxyTracerProvider):
        trace.set_tracer_provider(provider)
    # The versions are this project's choice, checked by its tests; the instrumentations' own
    # checks would read package metadata on the event loop.
    server = AioHttpServerInstrumentor()
    # Reads the settings (excluded URLs, captured headers) of the middleware made above.
    server.instrument(tracer_provider=provider, skip_dep_check=True)
    trace_ids, handlers = TraceIdFilter(), list(logging.getLogger().handlers)
    for handler in handlers:
        handler.addFilter(trace_ids)
{%- if cookiecutter.database != "none" %}
    app[database_key].watcher = partial(database_span, provider.get_tracer(__name__))
{%- endif %}
{%- if cookiecutter.__redis %}
    RedisInstrumentor.instrument_client(app[redis_key], tracer_provider=provider)
{%- endif %}
    yield
{%- if cookiecutter.__redis %}
    RedisInstrumentor.uninstrument_client(app[redis_key])
{%- endif %}
{%- if cookiecutter.database != "none" %}
    app[database_key].watcher = None
{%- endif %}
    server.uninstrument()
    for handler in handlers:
        handler.removeFilter(trace_ids)
    # Sends what is still queued (within the exporter's timeout), off the event loop.
    await asyncio.to_thread(provider.shutdown)
