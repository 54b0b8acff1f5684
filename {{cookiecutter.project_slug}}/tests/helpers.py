"""Shared test helpers: the client type, problem+json checks, item creation{% if cookiecutter.use_sentry or cookiecutter.use_tracing %}, fresh interpreters{% endif %}."""

{% if cookiecutter.use_sentry or cookiecutter.use_tracing -%}
import json
import os
import subprocess
import sys
{% endif -%}
from http import HTTPStatus
{%- if cookiecutter.use_sentry or cookiecutter.use_tracing %}
from pathlib import Path
{%- endif %}
from typing import Any, TypeAlias

from aiohttp import ClientResponse, web
from aiohttp.test_utils import TestClient

{% if cookiecutter.auth == "jwt" %}from {{ cookiecutter.package_name }}.auth.tokens import Tokens
{% endif %}from {{ cookiecutter.package_name }}.settings import Settings

Client: TypeAlias = TestClient[web.Request, web.Application]
{%- if cookiecutter.auth == "jwt" %}
# The user whose token the tests send: an id the database never gives (they start at 1).
TEST_USER_ID = 0


def auth_headers(settings: Settings) -> dict[str, str]:
    """The Authorization header of the tests' user (conftest.py adds it to every database)."""
    token = Tokens(settings.jwt_secret.get_secret_value(), settings.access_token_ttl)
    return {"Authorization": f"Bearer {token.issue(TEST_USER_ID)}"}
{%- else %}


def auth_headers(_settings: Settings) -> dict[str, str]:
    """The headers that sign a request in: none, the service has no authentication."""
    return {}
{%- endif %}


def raw_auth_headers(settings: Settings) -> bytes:
    """`auth_headers` as the header lines of a request written by hand."""
    lines = (f"{name}: {value}\r\n" for name, value in auth_headers(settings).items())
    return "".join(lines).encode()


async def assert_problem(response: ClientResponse, status: int) -> dict[str, Any]:
    """Check that `response` is an RFC 9457 problem with `status`; return its body."""
    assert response.status == status
    assert response.content_type == "application/problem+json"
    body: dict[str, Any] = await response.json(content_type=None)
    assert body["type"] == "about:blank"
    assert body["title"] == HTTPStatus(status).phrase
    assert body["status"] == status
    return body


async def create_item(
    client: Client, name: str, description: str | None = None
) -> dict[str, Any]:
    """POST an item and return the created representation."""
    response = await client.post(
        "/api/v1/items", json={"name": name, "description": description}
    )
    assert response.status == 201
    body: dict[str, Any] = await response.json()
    return body
{%- if cookiecutter.use_sentry or cookiecutter.use_tracing %}


def run_fresh(script: str, cwd: Path, unset_prefix: str) -> Any:
    """Run `script` in a new interpreter, without the variables starting with `unset_prefix`.

    Returns the JSON the script printed; fails when the script does.
    """
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(unset_prefix)
    }
{%- if cookiecutter.auth == "jwt" %}
    env.setdefault("JWT_SECRET", "a secret of the tests, long enough for HS256")
{%- endif %}
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)
{%- endif %}
