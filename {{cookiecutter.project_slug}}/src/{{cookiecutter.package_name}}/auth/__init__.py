"""The auth component: users in the database, the OAuth2 password grant, bearer tokens.

`setup_auth` adds the token and /users/me endpoints, the guard of the authenticated endpoints,
and the OAuth2 scheme of the OpenAPI document (so that Swagger UI's Authorize button logs in).
"""

from collections.abc import AsyncIterator

from aiohttp import web

from ..db import database_key
from ..openapi import security_scheme_key
from ..routing import add_endpoints, endpoints_key
from ..settings import settings_key
from .guard import ActiveUsers, Auth, auth_key, guard_middleware
from .passwords import Passwords
from .tokens import Tokens
from .users import UserStore
from .views import ENDPOINTS, LOGIN_PATH

__all__ = ["Auth", "auth_key", "setup_auth"]

SCHEME = "OAuth2PasswordBearer"
_MAKE_ONE = (
    "`make run` writes a random one to .env, or set it to `openssl rand -hex 32`"
)


async def auth_context(app: web.Application) -> AsyncIterator[None]:
    """Refuse to start without JWT_SECRET; find the authenticated endpoints."""
    settings = app[settings_key]
    secret = settings.jwt_secret.get_secret_value()
    if not secret:
        # An exit, not an error to trace back: the one line says what to do.
        raise SystemExit(
            f"error: setting JWT_SECRET: required to sign access tokens; {_MAKE_ONE}"
        )
    users = UserStore(app[database_key])
    auth = Auth(
        users=users,
        passwords=Passwords(),
        tokens=Tokens(secret, settings.access_token_ttl),
        active=ActiveUsers(users),
    )
    auth.guarded.update(e.handler for e in app[endpoints_key] if e.authenticated)
    app[auth_key] = auth
    yield


def setup_auth(app: web.Application) -> None:
    """Bearer tokens on the authenticated endpoints; call it after every component's setup.

    Its middleware goes innermost, inside problem+json (see guard.py).
    """
    app.cleanup_ctx.append(auth_context)
    app.middlewares.append(guard_middleware)
    add_endpoints(app, ENDPOINTS)
    app[security_scheme_key] = (
        SCHEME,
        {
            "type": "oauth2",
            "flows": {"password": {"tokenUrl": LOGIN_PATH, "scopes": {}}},
        },
    )
