"""The password grant: tokens for good credentials, one answer for every bad one, hashes."""

import asyncio
import logging
from typing import Literal

import jwt
import pytest
from argon2 import PasswordHasher
from blockbuster import BlockingError
from sqlalchemy import select

from {{ cookiecutter.package_name }}.auth import auth_key
from {{ cookiecutter.package_name }}.auth.tables import users
from {{ cookiecutter.package_name }}.db import database_key
from {{ cookiecutter.package_name }}.settings import Settings

from .accounts import (
    EMAIL,
    ME,
    PASSWORD,
    TOKEN,
    add_user,
    assert_invalid_token,
    bearer,
    deactivate,
    log_in,
)
from .helpers import Client, assert_problem

ITEMS = "/api/v1/items"


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
        body["access_token"],
        settings.jwt_secret.get_secret_value(),
        algorithms=["HS256"],
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

    def verify(self, hash: str | bytes, password: str | bytes) -> Literal[True]:
        self.checked.append(str(hash))
        return super().verify(hash, password)


async def test_an_unknown_e_mail_costs_a_password_check_as_a_known_one(
    anonymous: Client,
) -> None:
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
    await deactivate(anonymous, user_id)
    body = await assert_problem(await log_in(anonymous), 400)
    assert body["error"] == "invalid_grant"
    refused = await anonymous.post(ITEMS, json={"name": "lamp"}, headers=bearer(token))
    await assert_invalid_token(refused)


@pytest.mark.parametrize(
    ("form", "error"),
    [
        ({"username": EMAIL, "password": PASSWORD}, "invalid_request"),
        ({"grant_type": "password", "username": EMAIL}, "invalid_request"),
        (
            {"grant_type": "password", "username": "", "password": PASSWORD},
            "invalid_request",
        ),
        (
            {"grant_type": "password", "username": "x" * 321, "password": "x"},
            "invalid_request",
        ),
        (
            {"grant_type": "password", "username": "a\x00@b.c", "password": "x"},
            "invalid_request",
        ),
        ({"grant_type": "client_credentials"}, "unsupported_grant_type"),
    ],
    ids=[
        "no grant_type",
        "no password",
        "empty username",
        "long username",
        "NUL",
        "other grant",
    ],
)
async def test_malformed_token_requests_say_what_is_wrong(
    anonymous: Client, form: dict[str, str], error: str
) -> None:
    body = await assert_problem(await anonymous.post(TOKEN, data=form), 400)
    assert body["error"] == error


async def test_a_repeated_parameter_or_a_json_body_is_invalid_request(
    anonymous: Client,
) -> None:
    twice = "grant_type=password&username=a%40b.c&username=d%40e.f&password=x"
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    repeated = await anonymous.post(TOKEN, data=twice, headers=form)
    assert (await assert_problem(repeated, 400))["error"] == "invalid_request"
    as_json = await anonymous.post(TOKEN, json={"grant_type": "password"})
    assert (await assert_problem(as_json, 400))["error"] == "invalid_request"


async def test_a_hash_made_with_old_parameters_is_remade_at_login(
    anonymous: Client,
) -> None:
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
