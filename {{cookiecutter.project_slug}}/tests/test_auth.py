"""Authentication: the password grant, bearer tokens on writes, /users/me, the OpenAPI scheme."""

import asyncio
import logging
import os
import subprocess
import sys
import time
from typing import Any, Literal

import jwt
import pytest
from aiohttp import web
from aiohttp.test_utils import make_mocked_request
from argon2 import PasswordHasher
from blockbuster import BlockingError
from pydantic import ValidationError
from sqlalchemy import select, update

from {{ cookiecutter.package_name }} import access
from {{ cookiecutter.package_name }}.__main__ import load_settings
from {{ cookiecutter.package_name }}.auth import auth_key
from {{ cookiecutter.package_name }}.auth.tables import users
from {{ cookiecutter.package_name }}.auth.tokens import InvalidTokenError, Tokens
from {{ cookiecutter.package_name }}.db import database_key
from {{ cookiecutter.package_name }}.settings import Settings

from .helpers import Client, assert_problem, create_item

TOKEN = "/api/v1/auth/token"
ME = "/api/v1/users/me"
ITEMS = "/api/v1/items"
EMAIL = "ada@example.com"
PASSWORD = "correct horse battery staple"


async def add_user(client: Client, email: str = EMAIL, password: str = PASSWORD) -> int:
    auth = client.app[auth_key]
    user = await auth.users.create(email, await auth.passwords.hash(password))
    return user["id"]


async def log_in(client: Client, username: str = EMAIL, password: str = PASSWORD) -> Any:
    form = {"grant_type": "password", "username": username, "password": password}
    return await client.post(TOKEN, data=form)


@pytest.fixture
def anonymous(client: Client) -> Client:
    """The test client without the tests' user's token."""
    del client.session.headers["Authorization"]
    return client


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_the_password_grant_gives_a_bearer_token(
    anonymous: Client, settings: Settings
) -> None:
    user_id = await add_user(anonymous)
    response = await log_in(anonymous)
    assert response.status == 200
    assert response.headers["Cache-Control"] == "no-store"
    body = await response.json()
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == settings.access_token_ttl
    claims = jwt.decode(
        body["access_token"], settings.jwt_secret.get_secret_value(), algorithms=["HS256"]
    )
    assert claims["sub"] == str(user_id)
    assert claims["exp"] - claims["iat"] == settings.access_token_ttl
    assert claims["jti"]


async def test_the_token_lets_its_user_write_and_names_them(anonymous: Client) -> None:
    user_id = await add_user(anonymous)
    token = (await (await log_in(anonymous)).json())["access_token"]
    response = await anonymous.post(ITEMS, json={"name": "lamp"}, headers=bearer(token))
    assert response.status == 201
    me = await anonymous.get(ME, headers=bearer(token))
    assert me.status == 200
    body = await me.json()
    assert body == {
        "id": user_id,
        "email": EMAIL,
        "active": True,
        "created_at": body["created_at"],
    }
    assert "password_hash" not in await me.text()


async def test_e_mail_addresses_are_one_whatever_their_case(anonymous: Client) -> None:
    await add_user(anonymous, "Ada@Example.COM")
    assert (await log_in(anonymous, "ADA@example.com")).status == 200


@pytest.mark.parametrize(
    ("username", "password"),
    [(EMAIL, "wrong password"), ("nobody@example.com", PASSWORD)],
    ids=["wrong password", "unknown e-mail"],
)
async def test_bad_credentials_are_invalid_grant(
    anonymous: Client, username: str, password: str
) -> None:
    await add_user(anonymous)
    body = await assert_problem(await log_in(anonymous, username, password), 400)
    assert body["error"] == "invalid_grant"
    assert PASSWORD not in str(body)


class CountingHasher(PasswordHasher):
    """The default hasher, keeping the hashes that passwords were checked against."""

    def __init__(self) -> None:
        super().__init__()
        self.checked: list[str] = []

    def verify(self, hash: str | bytes, password: str | bytes) -> Literal[True]:  # noqa: A002
        self.checked.append(str(hash))
        return super().verify(hash, password)


async def test_an_unknown_e_mail_costs_a_password_check_as_a_known_one(anonymous: Client) -> None:
    await add_user(anonymous)
    hasher = anonymous.app[auth_key].passwords.hasher = CountingHasher()
    await log_in(anonymous, EMAIL, "wrong password")
    await log_in(anonymous, "nobody@example.com", "wrong password")
    assert len(hasher.checked) == 2
    assert all(found.startswith("$argon2id$") for found in hasher.checked)


async def test_an_inactive_user_cannot_log_in_and_their_token_is_refused(
    anonymous: Client,
) -> None:
    user_id = await add_user(anonymous)
    token = (await (await log_in(anonymous)).json())["access_token"]
    database = anonymous.app[database_key]
    await database.execute(update(users).where(users.c.id == user_id).values(active=False))
    body = await assert_problem(await log_in(anonymous), 400)
    assert body["error"] == "invalid_grant"
    refused = await anonymous.post(ITEMS, json={"name": "lamp"}, headers=bearer(token))
    await assert_problem(refused, 401)
    assert refused.headers["WWW-Authenticate"] == 'Bearer realm="api", error="invalid_token"'


async def test_a_deactivated_user_is_shut_out_once_the_flag_is_read_again(
    anonymous: Client,
) -> None:
    user_id = await add_user(anonymous)
    token = (await (await log_in(anonymous)).json())["access_token"]
    first = await anonymous.post(ITEMS, json={"name": "lamp"}, headers=bearer(token))
    assert first.status == 201
    database = anonymous.app[database_key]
    await database.execute(update(users).where(users.c.id == user_id).values(active=False))
    # Within ACTIVE_FOR seconds of the last read the flag is not read again; past them it is.
    active = anonymous.app[auth_key].active
    assert (await anonymous.post(ITEMS, json={"name": "desk"}, headers=bearer(token))).status == 201
    active.fresh = 0
    refused = await anonymous.post(ITEMS, json={"name": "chair"}, headers=bearer(token))
    await assert_problem(refused, 401)
    assert refused.headers["WWW-Authenticate"] == 'Bearer realm="api", error="invalid_token"'


@pytest.mark.parametrize(
    ("form", "error"),
    [
        ({"username": EMAIL, "password": PASSWORD}, "invalid_request"),
        ({"grant_type": "password", "username": EMAIL}, "invalid_request"),
        ({"grant_type": "password", "username": "", "password": PASSWORD}, "invalid_request"),
        ({"grant_type": "password", "username": "x" * 321, "password": "x"}, "invalid_request"),
        ({"grant_type": "password", "username": "a\x00@b.c", "password": "x"}, "invalid_request"),
        ({"grant_type": "client_credentials"}, "unsupported_grant_type"),
    ],
    ids=["no grant_type", "no password", "empty username", "long username", "NUL", "other grant"],
)
async def test_malformed_token_requests_say_what_is_wrong(
    anonymous: Client, form: dict[str, str], error: str
) -> None:
    body = await assert_problem(await anonymous.post(TOKEN, data=form), 400)
    assert body["error"] == error


async def test_a_repeated_parameter_or_a_json_body_is_invalid_request(anonymous: Client) -> None:
    twice = "grant_type=password&username=a%40b.c&username=d%40e.f&password=x"
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    repeated = await anonymous.post(TOKEN, data=twice, headers=form)
    assert (await assert_problem(repeated, 400))["error"] == "invalid_request"
    as_json = await anonymous.post(TOKEN, json={"grant_type": "password"})
    assert (await assert_problem(as_json, 400))["error"] == "invalid_request"


@pytest.mark.parametrize(
    ("method", "path"),
    [("POST", ITEMS), ("PUT", f"{ITEMS}/1"), ("PATCH", f"{ITEMS}/1"), ("DELETE", f"{ITEMS}/1")],
)
async def test_writes_without_a_token_are_401_with_the_bearer_challenge(
    anonymous: Client, method: str, path: str
) -> None:
    response = await anonymous.request(method, path, json={"name": "lamp"})
    body = await assert_problem(response, 401)
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="api"'
    assert "Bearer" in body["detail"]


async def test_reads_stay_public(client: Client) -> None:
    created = await create_item(client, "lamp")
    del client.session.headers["Authorization"]
    assert (await client.get(ITEMS)).status == 200
    assert (await client.get(f"{ITEMS}/{created['id']}")).status == 200
    await assert_problem(await client.get(ME), 401)


def other_secret_token(settings: Settings) -> str:
    return Tokens("another secret, as long as the real one", settings.access_token_ttl).issue(0)


def expired_token(settings: Settings) -> str:
    return Tokens(settings.jwt_secret.get_secret_value(), -10).issue(0)


def tampered_token(settings: Settings) -> str:
    token = Tokens(settings.jwt_secret.get_secret_value(), 60).issue(0)
    header, _claims, signature = token.split(".")
    forged = jwt.utils.base64url_encode(b'{"sub":"1","iat":0,"exp":9999999999,"jti":"x"}')
    return f"{header}.{forged.decode()}.{signature}"


@pytest.mark.parametrize(
    "make",
    [
        lambda _settings: "not-a-jwt",
        other_secret_token,
        expired_token,
        tampered_token,
        lambda settings: jwt.encode(
            {"sub": "0", "exp": int(time.time()) + 60},
            settings.jwt_secret.get_secret_value(),
            algorithm="HS256",
        ),
    ],
    ids=["malformed", "other secret", "expired", "tampered", "no jti or iat"],
)
async def test_bad_tokens_are_401_invalid_token(
    anonymous: Client, settings: Settings, make: Any
) -> None:
    response = await anonymous.post(ITEMS, json={"name": "lamp"}, headers=bearer(make(settings)))
    await assert_problem(response, 401)
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="api", error="invalid_token"'
    assert (await anonymous.get(ITEMS)).status == 200


async def test_other_schemes_are_a_missing_token(anonymous: Client) -> None:
    response = await anonymous.post(
        ITEMS, json={"name": "lamp"}, headers={"Authorization": "Basic YTpi"}
    )
    await assert_problem(response, 401)
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="api"'


async def test_a_hash_made_with_old_parameters_is_remade_at_login(anonymous: Client) -> None:
    old = PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1)
    auth = anonymous.app[auth_key]
    user = await auth.users.create(EMAIL, await asyncio.to_thread(old.hash, PASSWORD))
    assert auth.passwords.needs_rehash(user["password_hash"])
    assert (await log_in(anonymous)).status == 200
    database = anonymous.app[database_key]
    stored = await database.fetch_value(
        select(users.c.password_hash).where(users.c.id == user["id"])
    )
    assert stored != user["password_hash"]
    assert not auth.passwords.needs_rehash(stored)
    assert (await log_in(anonymous)).status == 200


async def test_hashing_a_password_on_the_event_loop_is_caught() -> None:
    with pytest.raises(BlockingError):
        PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1).hash(PASSWORD)


async def test_the_openapi_document_declares_the_password_flow(client: Client) -> None:
    document = await (await client.get("/openapi.json")).json()
    schemes = document["components"]["securitySchemes"]
    assert schemes == {
        "OAuth2PasswordBearer": {
            "type": "oauth2",
            "flows": {"password": {"tokenUrl": TOKEN, "scopes": {}}},
        }
    }
    paths = document["paths"]
    by_id = paths[ITEMS + "/{item_id}"]
    writes = [paths[ITEMS]["post"], by_id["put"], by_id["patch"], by_id["delete"]]
    for operation in [*writes, paths[ME]["get"]]:
        assert operation["security"] == [{"OAuth2PasswordBearer": []}]
        assert "401" in operation["responses"]
    for operation in (paths[ITEMS]["get"], paths[TOKEN]["post"]):
        assert "security" not in operation
    form = paths[TOKEN]["post"]["requestBody"]["content"]
    assert list(form) == ["application/x-www-form-urlencoded"]


async def test_logs_carry_no_password_nor_token(
    anonymous: Client, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    await add_user(anonymous)
    await log_in(anonymous, EMAIL, "a wrong password")
    token = (await (await log_in(anonymous)).json())["access_token"]
    await anonymous.post(ITEMS, json={"name": "lamp"}, headers=bearer(token))
    await anonymous.post(ITEMS, json={"name": "lamp"}, headers=bearer(token + "x"))
    logged = caplog.text + "".join(str(record.__dict__) for record in caplog.records)
    for secret in (PASSWORD, "a wrong password", token, "Bearer"):
        assert secret not in logged


def test_the_access_line_names_the_user(caplog: pytest.LogCaptureFixture) -> None:
    logger = logging.getLogger("test.access")
    caplog.set_level(logging.INFO, logger=logger.name)
    request = make_mocked_request("POST", ITEMS)
    request[access.user_id_key] = 42
    access.AccessLogger(logger, "").log(request, web.Response(status=201), 0.001)
    [record] = caplog.records
    assert record.__dict__["user_id"] == 42


def test_the_service_refuses_to_start_without_jwt_secret(settings: Settings) -> None:
    environment = {
        "PATH": os.environ.get("PATH", ""),
        "DATABASE_URL": settings.database_url.get_secret_value(),
        "PORT": "1",
        "LOG_FORMAT": "json",
    }
    result = subprocess.run(
        [sys.executable, "-m", "{{ cookiecutter.package_name }}", "serve"],
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode != 0
    assert "error: setting JWT_SECRET: required" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_token_kept_after_its_check_still_expires(monkeypatch: pytest.MonkeyPatch) -> None:
    tokens = Tokens("a secret of this test, long enough for HS256", 60)
    token = tokens.issue(7)
    assert tokens.verify(token) == 7
    later = time.time() + 61
    monkeypatch.setattr(time, "time", lambda: later)
    with pytest.raises(InvalidTokenError, match="expired"):
        tokens.verify(token)


def test_a_short_jwt_secret_is_refused_without_being_echoed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with pytest.raises(ValidationError, match="at least 32 characters"):
        Settings(_env_file=None, jwt_secret="too short")
    monkeypatch.setenv("JWT_SECRET", "too short")
    with pytest.raises(SystemExit) as stopped:
        load_settings()
    assert str(stopped.value.code).startswith("error: setting JWT_SECRET:")
    assert "too short" not in str(stopped.value.code)
