"""OpenTelemetry traces: the switch.

Tracing is on when OTEL_EXPORTER_OTLP_ENDPOINT or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT is set and
OTEL_SDK_DISABLED is not true. Otherwise nothing is added to the app and the SDK is not even
imported (it loads about 150 modules, some 0.3 s at start): no middleware, no exporter, no
thread. When on, `otel.py` sets it up for the app.
"""

from aiohttp import web

from .settings import Settings, settings_key


def tracing_enabled(settings: Settings) -> bool:
    """True when spans have somewhere to go and the SDK is not disabled."""
    endpoint = (
        settings.otel_exporter_otlp_traces_endpoint
        or settings.otel_exporter_otlp_endpoint
    )
    return bool(endpoint) and not settings.otel_sdk_disabled


def setup_tracing(app: web.Application) -> None:
    """Trace the app's requests when an OTLP endpoint is configured; else add nothing."""
    if tracing_enabled(app[settings_key]):
        from .otel import install_tracing

        install_tracing(app)
