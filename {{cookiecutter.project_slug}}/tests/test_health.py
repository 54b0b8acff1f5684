"""Liveness and readiness probes."""

{% if cookiecutter.database == "sqlite" %}from pathlib import Path

{% endif %}import pytest
from pydantic import SecretStr
from pytest_aiohttp import AiohttpClient

from {{ cookiecutter.package_name }}.app import create_app
from {{ cookiecutter.package_name }}.settings import Settings

from .helpers import Client, assert_problem
{% if cookiecutter.database == "postgresql" %}
# Port 1 on loopback: nothing listens there, so the connection is refused at once.
UNREACHABLE = "postgresql+asyncpg://postgres@127.0.0.1:1/test"


@pytest.fixture
def broken_url() -> str:
    """A database server that does not answer."""
    return UNREACHABLE
{%- elif cookiecutter.database == "sqlite" %}

@pytest.fixture
def broken_url(tmp_path: Path) -> str:
    """A file that is not a SQLite database: every connection to it fails."""
    path = tmp_path / "broken.sqlite3"
    path.write_bytes(b"this is not a database" * 100)
    return f"sqlite+aiosqlite:///{path}"
{%- endif %}


async def test_livez_answers_ok(client: Client) -> None:
    response = await client.get("/livez")
    assert response.status == 200
    assert await response.json() == {"status": "ok"}


async def test_readyz_checks_the_database(client: Client) -> None:
    response = await client.get("/readyz")
    assert response.status == 200
    assert await response.json() == {"status": "ok", "checks": {"database": "ok"}}


async def test_broken_database_makes_readyz_503_but_livez_200(
    aiohttp_client: AiohttpClient, settings: Settings, broken_url: str
) -> None:
    broken = settings.model_copy(update={"database_url": SecretStr(broken_url), "db_timeout": 2})
    client = await aiohttp_client(create_app(broken))

    ready = await client.get("/readyz")
    body = await assert_problem(ready, 503)
    assert body["checks"] == {"database": "unavailable"}
    assert ready.headers["Retry-After"].isdigit()
    assert broken_url.rpartition("//")[2] not in await ready.text()

    live = await client.get("/livez")
    assert live.status == 200
