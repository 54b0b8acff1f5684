"""The service with its write guard off, for `make bench` to compare with the guarded one.

The same app, settings and logs as `python -m {{ cookiecutter.package_name }} serve`, with the set of
authenticated endpoints emptied once the app has started: the two POST rows differ by what
checking a bearer token costs (one HMAC and one read of the user's `active` flag).
"""

from aiohttp import web

from {{ cookiecutter.package_name }} import server
from {{ cookiecutter.package_name }}.__main__ import load_settings
from {{ cookiecutter.package_name }}.app import create_app
from {{ cookiecutter.package_name }}.auth import auth_key
from {{ cookiecutter.package_name }}.settings import Settings


async def _open_writes(app: web.Application) -> None:
    """on_startup, after the cleanup contexts: the guard has found its endpoints by now."""
    app[auth_key].guarded.clear()


def unguarded_app(settings: Settings) -> web.Application:
    """create_app, with no endpoint asking for a token."""
    app = create_app(settings)
    app.on_startup.append(_open_writes)
    return app


if __name__ == "__main__":
    # serve() builds its app with the create_app of its module: this one, here.
    server.create_app = unguarded_app  # type: ignore[attr-defined]
    server.serve(load_settings())
