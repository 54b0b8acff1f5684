"""Sentry error reporting: the switch.

Reporting is on when SENTRY_DSN is set. Otherwise nothing is added to the app and the SDK is not
even imported (some 0.25 s at start): no client, no thread, nothing on the request path. When on,
`sentry_client.py` starts the client with the app.
"""

from aiohttp import web

from .settings import settings_key


def setup_sentry(app: web.Application) -> None:
    """Report errors to Sentry when SENTRY_DSN is set; else add nothing."""
    if app[settings_key].sentry_dsn.get_secret_value():
        from .sentry_client import sentry_context

        app.cleanup_ctx.append(sentry_context)
