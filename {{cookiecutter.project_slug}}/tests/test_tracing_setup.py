"""OpenTelemetry's setup: when tracing is on, where the spans are sent and when, and that
without an endpoint nothing of the SDK is loaded.

Spans go to a stand-in collector on 127.0.0.1: nothing leaves the machine.
"""

from pathlib import Path

import pytest
from aiohttp import web
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
)
from pydantic import ValidationError
from pytest_aiohttp import AiohttpClient, AiohttpServer

from {{ cookiecutter.package_name }}.app import create_app
from {{ cookiecutter.package_name }}.otel import traces_url
from {{ cookiecutter.package_name }}.settings import Settings
from {{ cookiecutter.package_name }}.tracing import tracing_enabled

from .helpers import run_fresh

# Never contacted: only compared.
ENDPOINT = "http://127.0.0.1:4318"
BY_ID = "/api/v1/items/{item_id}"


async def test_spans_reach_an_otlp_collector_by_the_time_the_app_has_stopped(
    aiohttp_client: AiohttpClient,
    aiohttp_server: AiohttpServer,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    received: list[bytes] = []

    async def collect(request: web.Request) -> web.Response:
        received.append(await request.read())
        return web.Response(content_type="application/x-protobuf")

    collector = web.Application()
    collector.router.add_post("/v1/traces", collect)
    server = await aiohttp_server(
        collector
    )  # a stand-in collector on the loopback interface
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    endpoint = str(server.make_url("/"))
    client = await aiohttp_client(
        create_app(
            settings.model_copy(update={"otel_exporter_otlp_endpoint": endpoint})
        )
    )
    await client.get("/api/v1/items/424242")
    assert received == []  # batched: nothing is sent per request

    await client.close()  # the app stops: the exporter sends what is queued
    exports = [ExportTraceServiceRequest.FromString(body) for body in received]
    names = [
        span.name
        for export in exports
        for resource in export.resource_spans
        for scope in resource.scope_spans
        for span in scope.spans
    ]
    assert f"GET {BY_ID}" in names


def test_tracing_is_on_only_with_an_endpoint_and_the_sdk_enabled(
    settings: Settings,
) -> None:
    on = settings.model_copy(update={"otel_exporter_otlp_endpoint": ENDPOINT})
    assert not tracing_enabled(
        settings.model_copy(update={"otel_exporter_otlp_endpoint": ""})
    )
    assert tracing_enabled(on)
    assert not tracing_enabled(on.model_copy(update={"otel_sdk_disabled": True}))
    traces_only = {"otel_exporter_otlp_traces_endpoint": f"{ENDPOINT}/v1/traces"}
    assert tracing_enabled(settings.model_copy(update=traces_only))


def test_spans_are_posted_where_the_otlp_variables_say(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "https://collector.example:4318/")
    assert (
        traces_url(Settings(_env_file=None))
        == "https://collector.example:4318/v1/traces"
    )
    monkeypatch.setenv(
        "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "https://traces.example/in"
    )
    assert traces_url(Settings(_env_file=None)) == "https://traces.example/in"


def test_an_endpoint_without_a_scheme_is_refused() -> None:
    with pytest.raises(ValidationError, match="http:// or https://"):
        Settings(_env_file=None, otel_exporter_otlp_endpoint="collector:4318")


# Run in a fresh interpreter: whether the SDK was imported, and which tracer provider the
# process has, are questions about a whole process.
_OFF = """
import asyncio, json, sys
from aiohttp.test_utils import TestClient, TestServer
from opentelemetry import trace
from {{ cookiecutter.package_name }}.app import create_app
from {{ cookiecutter.package_name }}.settings import Settings

async def main():
    app = create_app(Settings(_env_file=None))
    async with TestClient(TestServer(app)) as client:
        status = (await client.get("/livez")).status
    sdk = ("opentelemetry.sdk.trace", "opentelemetry.exporter", "opentelemetry.instrumentation")
    loaded = sorted(m for m in sys.modules if m.startswith(sdk) or m.endswith(".otel"))
    provider = type(trace.get_tracer_provider()).__name__
    print(json.dumps({"status": status, "loaded": loaded, "provider": provider}))

asyncio.run(main())
"""


def test_without_an_endpoint_nothing_is_loaded_or_installed(tmp_path: Path) -> None:
    report = run_fresh(_OFF, tmp_path, "OTEL_")
    assert report["status"] == 200
    assert report["loaded"] == []
    assert report["provider"] == "ProxyTracerProvider"
