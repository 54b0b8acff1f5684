"""Bearer tokens: which requests need one, which tokens are refused, and how it is declared."""

import logging
import os
import subprocess
import sys
import time
from typing import Any

import jwt
import pytest
from aiohttp import web
from aiohttp.test_utils import make_mocked_request
from pydantic import ValidationError

from {{ cookiecutter.package_name }} import access
from {{ cookiecutter.package_name }}.__main__ import load_settings
from {{ cookiecutter.package_name }}.auth import auth_key
from {{ cookiecutter.package_name }}.auth.tokens import InvalidTokenError, Tokens
from {{ cookiecutter.package_name }}.settings import Settings

from .accounts import (
    ME,
    TOKEN,
    add_user,
    assert_invalid_token,
    bearer,
    deactivate,
    log_in,
)
from .helpers import Client, assert_problem, create_item

ITEMS = "/api/v1/items"


async def test_a_deactivated_user_is_shut_out_once_the_flag_is_read_again(
    anonymous: Client,
) -> None:
    user_id = await add_user(anonymous)
    token = (await (await log_in(anonymous)).json())["access_token"]
    first = await anonymous.post(ITEMS, json={"name": "lamp"}, headers=bearer(token))
    assert first.status == 201
    await deactivate(anonymous, user_id)
    # Within ACTIVE_FOR seconds of the last read the flag is not read again; past them it is.
    active = anonymous.app[auth_key].active
    assert (
        await anonymous.post(ITEMS, json={"name": "desk"}, headers=bearer(token))
    ).status == 201
    active.fresh = 0
    refused = await anonymous.post(ITEMS, json={"name": "chair"}, headers=bearer(token))
    await assert_invalid_token(refused)


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", ITEMS),
        ("PUT", f"{ITEMS}/1"),
        ("PATCH", f"{ITEMS}/1"),
        ("DELETE", f"{ITEMS}/1"),
    ],
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
    return Tokens(
        "another secret, as long as the real one", settings.access_token_ttl
    ).issue(0)


def expired_token(settings: Settings) -> str:
    return Tokens(settings.jwt_secret.get_secret_value(), -10).issue(0)


def tampered_token(settings: Settings) -> str:
    token = Tokens(settings.jwt_secret.get_secret_value(), 60).issue(0)
    header, _claims, signature = token.split(".")
    forged = jwt.utils.base64url_encode(
        b'{"sub":"1","iat":0,"exp":9999999999,"jti":"x"}'
    )
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
    response = await anonymous.post(
        ITEMS, json={"name": "lamp"}, headers=bearer(make(settings))
    )
    await assert_invalid_token(response)
    assert (await anonymous.get(ITEMS)).status == 200


async def test_other_schemes_are_a_missing_token(anonymous: Client) -> None:
    response = await anonymous.post(
        ITEMS, json={"name": "lamp"}, headers={"Authorization": "Basic YTpi"}
    )
    await assert_problem(response, 401)
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="api"'


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
        [
            sys.executable,
            "-m",
            "{{ cookiecutter.package_name }}",
            "serve",
        ],
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode != 0
    assert "error: setting JWT_SECRET: required" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_token_kept_after_its_check_still_expires(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
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
