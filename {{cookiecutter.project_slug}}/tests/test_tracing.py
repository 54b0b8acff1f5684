"""OpenTelemetry in the app: each request is a server span named after its route, with the work
done for it as child spans, and log lines carry the trace ids.

Spans go to an in-memory exporter: nothing leaves the machine (test_tracing_setup.py has the
exporter, the settings and the app without tracing).
"""

import asyncio
import json
import logging
from collections.abc import Sequence

import pytest
from aiohttp import web
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from pytest_aiohttp import AiohttpClient

from {{ cookiecutter.package_name }} import logs
from {{ cookiecutter.package_name }}.app import create_app
from {{ cookiecutter.package_name }}.otel import (
    server_span_middleware,
    span_exporter_key,
    tracer_provider_key,
)
from {{ cookiecutter.package_name }}.settings import Settings

from .helpers import Client, assert_problem

# Never contacted: the tests put an in-memory exporter in its place.
ENDPOINT = "http://127.0.0.1:4318"
BY_ID = "/api/v1/items/{item_id}"


@pytest.fixture
def exporter() -> InMemorySpanExporter:
    return InMemorySpanExporter()


@pytest.fixture
def traced_app(settings: Settings, exporter: InMemorySpanExporter) -> web.Application:
    """The app with tracing on, its spans kept in `exporter` (not started yet)."""
    app = create_app(
        settings.model_copy(update={"otel_exporter_otlp_endpoint": ENDPOINT})
    )
    app[span_exporter_key] = exporter
    return app


@pytest.fixture
async def traced(aiohttp_client: AiohttpClient, traced_app: web.Application) -> Client:
    return await aiohttp_client(traced_app)


async def finished_spans(
    client: Client, exporter: InMemorySpanExporter
) -> Sequence[ReadableSpan]:
    """Every span ended so far (the batch processor sends them from its thread)."""
    await asyncio.to_thread(client.app[tracer_provider_key].force_flush)
    return exporter.get_finished_spans()


def server_span(spans: Sequence[ReadableSpan], name: str) -> ReadableSpan:
    [span] = [s for s in spans if s.kind is trace.SpanKind.SERVER and s.name == name]
    return span


def status_code(span: ReadableSpan) -> object:
    """The HTTP status attribute, by the old or the new semantic conventions."""
    attributes = span.attributes or {}
    return attributes.get(
        "http.response.status_code", attributes.get("http.status_code")
    )


async def test_a_request_is_a_server_span_named_after_its_route(
    traced: Client, exporter: InMemorySpanExporter
) -> None:
    response = await traced.get("/api/v1/items/424242")
    assert response.status == 404

    span = server_span(await finished_spans(traced, exporter), f"GET {BY_ID}")
    assert status_code(span) == 404
    assert (span.attributes or {}).get("http.route") == BY_ID
    service = span.resource.attributes["service.name"]
    assert service == "{{ cookiecutter.project_slug }}"
    assert "424242" not in span.name


async def test_an_incoming_trace_context_is_continued(
    traced: Client, exporter: InMemorySpanExporter
) -> None:
    trace_id, parent_id = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"
    await traced.get("/livez", headers={"traceparent": f"00-{trace_id}-{parent_id}-01"})

    span = server_span(await finished_spans(traced, exporter), "GET /livez")
    assert trace.format_trace_id(span.context.trace_id) == trace_id
    assert span.parent is not None
    assert trace.format_span_id(span.parent.span_id) == parent_id
{%- if cookiecutter.database != "none" %}


async def test_database_queries_are_child_spans_of_the_request(
    traced: Client, exporter: InMemorySpanExporter
) -> None:
    assert (await traced.get("/api/v1/items")).status == 200

    spans = await finished_spans(traced, exporter)
    request = server_span(spans, "GET /api/v1/items")
    queries = [
        span
        for span in spans
        if span.kind is trace.SpanKind.CLIENT and "SELECT" in str(span.attributes)
    ]
    assert queries, [span.name for span in spans]
    for query in queries:
        assert query.parent is not None
        assert query.parent.span_id == request.context.span_id
        assert query.context.trace_id == request.context.trace_id
{%- endif %}
{%- if cookiecutter.__redis %}


async def test_redis_commands_are_child_spans_of_the_request(
    traced: Client, exporter: InMemorySpanExporter
) -> None:
    await traced.get("/api/v1/items/424242")

    spans = await finished_spans(traced, exporter)
    request = server_span(spans, f"GET {BY_ID}")
    commands = [s for s in spans if (s.attributes or {}).get("db.system") == "redis"]
    assert commands, [span.name for span in spans]
    for command in commands:
        assert command.parent is not None
        assert command.parent.span_id == request.context.span_id
{%- endif %}


async def test_the_sdk_variables_leave_probes_out_and_capture_the_request_id(
    aiohttp_client: AiohttpClient,
    traced_app: web.Application,
    exporter: InMemorySpanExporter,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("OTEL_PYTHON_AIOHTTP_SERVER_EXCLUDED_URLS", "livez,readyz")
    monkeypatch.setenv(
        "OTEL_INSTRUMENTATION_HTTP_CAPTURE_HEADERS_SERVER_REQUEST", "X-Request-ID"
    )
    client = await aiohttp_client(traced_app)
    await client.get("/livez")
    await client.get("/api/v1/items/424242", headers={"X-Request-ID": "req-7"})

    spans = await finished_spans(client, exporter)
    assert [s.name for s in spans if s.kind is trace.SpanKind.SERVER] == [
        f"GET {BY_ID}"
    ]
    attributes = server_span(spans, f"GET {BY_ID}").attributes or {}
    assert attributes["http.request.header.x_request_id"] == ("req-7",)


async def test_log_lines_of_a_traced_request_carry_its_trace_and_span_ids(
    aiohttp_client: AiohttpClient,
    traced_app: web.Application,
    exporter: InMemorySpanExporter,
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def chatty(_request: web.Request) -> web.Response:
        logging.getLogger("test.chatty").warning("working on it")
        return web.Response()

    traced_app.router.add_get("/chatty", chatty)
    client = await aiohttp_client(traced_app)
    await client.get("/chatty")

    span = server_span(await finished_spans(client, exporter), "GET /chatty")
    [record] = [r for r in caplog.records if r.name == "test.chatty"]
    assert record.__dict__["trace_id"] == trace.format_trace_id(span.context.trace_id)
    assert record.__dict__["span_id"] == trace.format_span_id(span.context.span_id)
    line = json.loads(logs.JsonFormatter().format(record))
    assert line["trace_id"] == record.__dict__["trace_id"]


async def test_an_unhandled_error_marks_the_span_and_records_the_exception(
    aiohttp_client: AiohttpClient,
    traced_app: web.Application,
    exporter: InMemorySpanExporter,
) -> None:
    async def broken(_request: web.Request) -> web.Response:
        raise RuntimeError("disk on fire")

    traced_app.router.add_get("/broken", broken)
    client = await aiohttp_client(traced_app)
    body = await assert_problem(await client.get("/broken"), 500)
    assert "disk on fire" not in json.dumps(body)

    span = server_span(await finished_spans(client, exporter), "GET /broken")
    assert status_code(span) == 500
    assert span.status.status_code is trace.StatusCode.ERROR
    [event] = [e for e in span.events if e.name == "exception"]
    assert (event.attributes or {})["exception.type"] == "RuntimeError"
    assert (event.attributes or {})["exception.message"] == "disk on fire"


def test_without_an_endpoint_the_app_gets_no_middleware(
    settings: Settings, traced_app: web.Application
) -> None:
    plain = create_app(settings)
    assert server_span_middleware not in plain.middlewares
    assert traced_app.middlewares[0] is server_span_middleware
    assert len(traced_app.middlewares) == len(plain.middlewares) + 1
