"""The Sentry client of the process: initialised as the app starts, flushed as it stops.

Imported by `sentry.setup_sentry` only when SENTRY_DSN is set. An error in a handler never
leaves `problem_middleware`: it answers 500 and logs the error with `log.exception`, and the
logging integration turns that record, with its exception, into the event. So does any other
ERROR line; lower levels go along as breadcrumbs. The aiohttp integration adds the request,
its cookies and credentials filtered out, and names the event after the route.
"""

import asyncio
import logging
from collections.abc import AsyncIterator

import sentry_sdk
from aiohttp import web
from sentry_sdk.integrations.aiohttp import AioHttpIntegration
from sentry_sdk.integrations.logging import LoggingIntegration
from sentry_sdk.transport import Transport

from . import __version__
from .settings import settings_key

# Where events go: Sentry's HTTP transport, unless one is put here before the app starts (tests).
sentry_transport_key = web.AppKey("sentry_transport", Transport)


async def sentry_context(app: web.Application) -> AsyncIterator[None]:
    """Start the client (its transport sends from a thread); flush and close it on cleanup."""
    settings = app[settings_key]
    sentry_sdk.init(
        dsn=settings.sentry_dsn.get_secret_value(),
        environment=settings.sentry_environment,
        release=f"{{ cookiecutter.project_slug }}@{__version__}",
        # Neither `data_collection` nor `send_default_pii` (deprecated for it) is given: the SDK
        # then collects what send_default_pii=False does (no user, cookies or credentials).
        traces_sample_rate=settings.sentry_traces_sample_rate,
        integrations=[
            AioHttpIntegration(transaction_style="method_and_path_pattern"),
            LoggingIntegration(level=logging.INFO, event_level=logging.ERROR),
        ],
        transport=app.get(sentry_transport_key),
    )
    yield
    # Sends what is still queued, for up to the SDK's shutdown timeout (2 s), off the loop.
    await asyncio.to_thread(sentry_sdk.get_client().close)
