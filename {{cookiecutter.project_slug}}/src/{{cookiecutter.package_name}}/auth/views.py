"""POST /api/v1/auth/token (RFC 6749 4.3, the password grant) and GET /api/v1/users/me."""

from datetime import datetime
from typing import Any, Final, Literal

import orjson
from aiohttp import web
from pydantic import BaseModel, Field

from ..access import user_id_key
from ..problems import ProblemError
from ..routing import Endpoint
from .guard import auth_key
from .login import authenticate
from .passwords import MAX_LENGTH

LOGIN_PATH: Final = "/api/v1/auth/token"
ME_PATH: Final = "/api/v1/users/me"
FORM: Final = "application/x-www-form-urlencoded"
MAX_EMAIL: Final = 320
# RFC 6749 5.1: an answer with a token, or about credentials, is never cached.
_NO_STORE: Final = {"Cache-Control": "no-store", "Pragma": "no-cache"}


class TokenRequest(BaseModel):
    """The form of the password grant; other fields (scope, client_id) are ignored."""

    grant_type: Literal["password"]
    username: str = Field(
        min_length=1,
        max_length=MAX_EMAIL,
        pattern=r"^[^\x00]*$",
        description="The user's e-mail.",
    )
    password: str = Field(
        min_length=1,
        max_length=MAX_LENGTH,
        pattern=r"^[^\x00]*$",
        json_schema_extra={"format": "password"},
    )


class Token(BaseModel):
    """An access token, to send as `Authorization: Bearer <access_token>`."""

    access_token: str
    token_type: Literal["bearer"]
    expires_in: int = Field(description="Seconds the token stays valid.")


class UserOut(BaseModel):
    """A user as the API shows it: never the password hash."""

    id: int
    email: str
    active: bool
    created_at: datetime


def oauth_error(error: str, detail: str) -> ProblemError:
    """400 with the RFC 6749 5.2 error code beside the problem fields."""
    return ProblemError(400, detail, headers=_NO_STORE, error=error)


def _field(form: Any, name: str, longest: int) -> str:
    values = form.getall(name, [])
    if len(values) != 1 or not isinstance(values[0], str) or not values[0]:
        raise oauth_error("invalid_request", f"Give {name} once, not empty.")
    value: str = values[0]
    if len(value) > longest:
        raise oauth_error(
            "invalid_request", f"{name} is longer than {longest} characters."
        )
    if "\x00" in value:  # no database stores it in text
        raise oauth_error("invalid_request", f"{name} contains a NUL character.")
    return value


async def issue_token(request: web.Request) -> web.Response:
    """POST: a bearer token for the user whose e-mail and password the form gives."""
    if request.content_type != FORM:
        raise oauth_error("invalid_request", f"The request body must be {FORM}.")
    form = await request.post()
    grant_type = _field(form, "grant_type", 100)
    if grant_type != "password":
        raise oauth_error(
            "unsupported_grant_type", "Only the password grant is supported."
        )
    username = _field(form, "username", MAX_EMAIL)
    password = _field(form, "password", MAX_LENGTH)
    auth = request.app[auth_key]
    for check in auth.login_checks:
        await check(request, username)
    user = await authenticate(auth.users, auth.passwords, username, password)
    if user is None:
        raise oauth_error("invalid_grant", "The e-mail or the password is wrong.")
    token = {
        "access_token": auth.tokens.issue(user["id"]),
        "token_type": "bearer",
        "expires_in": auth.tokens.ttl,
    }
    return web.Response(
        body=orjson.dumps(token), content_type="application/json", headers=_NO_STORE
    )


async def me(request: web.Request) -> web.Response:
    """GET: the user of the access token."""
    user = await request.app[auth_key].users.by_id(request[user_id_key])
    if user is None:
        raise ProblemError(404, "This user no longer exists.")
    shown = {key: user[key] for key in ("id", "email", "active", "created_at")}
    body = orjson.dumps(shown, option=orjson.OPT_UTC_Z)
    return web.Response(body=body, content_type="application/json")


ENDPOINTS = (
    Endpoint(method="POST", path=LOGIN_PATH, handler=issue_token, tag="auth",
             summary="Get an access token (OAuth2 password grant)", body=TokenRequest,
             body_media_type=FORM, response=Token, errors=(400, 413)),
    Endpoint(method="GET", path=ME_PATH, handler=me, tag="auth", summary="The signed-in user",
             response=UserOut, errors=(404,), authenticated=True),
)  # fmt: skip
