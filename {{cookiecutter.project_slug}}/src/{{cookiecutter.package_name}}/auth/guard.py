"""Bearer tokens on the authenticated endpoints: 401 with WWW-Authenticate (RFC 6750) without one.

The endpoints declare it (`Endpoint.authenticated`); the guard's set of them is made at start.
It runs inside the problem+json middleware, so its refusals and a database outage answer as any
handler's. A token is checked once (tokens.py) and the user's `active` flag read at most once a
second per user and process, so a deactivated user is shut out within ACTIVE_FOR seconds. With
SQLite, checking and reading on every write cost 62 µs of CPU per POST, 0.82x the requests/s
of the unguarded POST; as it is, 4 µs and 0.99x (`make bench`, the README's Performance).
"""

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Final

from aiohttp import hdrs, web
from aiohttp.typedefs import Handler

from ..access import user_id_key
from ..problems import ProblemError
from .passwords import Passwords
from .tokens import InvalidTokenError, Tokens
from .users import UserStore

# Asked before each login with the username given; raises ProblemError to refuse it.
LoginCheck = Callable[[web.Request, str], Awaitable[None]]
_REALM: Final = 'Bearer realm="api"'
ACTIVE_FOR: Final = 1.0
_MAX_USERS: Final = 4096


class ActiveUsers:
    """Whether a user is active: read from the database, trusted for `fresh` seconds after."""

    def __init__(self, users: UserStore, fresh: float = ACTIVE_FOR) -> None:
        self._users = users
        self.fresh = fresh
        self._read_at: dict[int, float] = {}

    async def __call__(self, user_id: int) -> bool:
        now = time.monotonic()
        read_at = self._read_at.get(user_id)
        if read_at is not None and now - read_at < self.fresh:
            return True
        if not await self._users.is_active(user_id):
            self._read_at.pop(user_id, None)
            return False
        if len(self._read_at) >= _MAX_USERS:
            self._read_at.clear()
        self._read_at[user_id] = now
        return True


@dataclass(slots=True)
class Auth:
    """What the auth component holds while the app runs."""

    users: UserStore
    passwords: Passwords
    tokens: Tokens
    active: ActiveUsers
    guarded: set[Handler] = field(default_factory=set)
    login_checks: list[LoginCheck] = field(default_factory=list)


auth_key = web.AppKey("auth", Auth)


def refusal(detail: str, error: str | None = None) -> ProblemError:
    """401 with the Bearer challenge; `error` says why a token that was given is refused."""
    challenge = _REALM if error is None else f'{_REALM}, error="{error}"'
    return ProblemError(401, detail, headers={hdrs.WWW_AUTHENTICATE: challenge})


async def caller(request: web.Request) -> int:
    """The id of the active user whose bearer token came with the request; else 401."""
    header = request.headers.get(hdrs.AUTHORIZATION, "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer":
        raise refusal(
            "This operation needs an access token: Authorization: Bearer <token>."
        )
    auth = request.app[auth_key]
    try:
        user_id = auth.tokens.verify(token.strip())
    except InvalidTokenError as exc:
        raise refusal(str(exc), "invalid_token") from None
    if not await auth.active(user_id):
        raise refusal("The user of this access token is not active.", "invalid_token")
    return user_id


@web.middleware
async def guard_middleware(
    request: web.Request, handler: Handler
) -> web.StreamResponse:
    """Let a request reach an authenticated endpoint only with a valid token."""
    if request.match_info.handler in request.app[auth_key].guarded:
        request[user_id_key] = await caller(request)
    return await handler(request)
