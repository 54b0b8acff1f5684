"""Liveness and readiness probes."""

{% if cookiecutter.database == "sqlite" %}from pathlib import Path

{% endif %}{% if cookiecutter.database != "none" %}import pytest
{% endif %}{% if cookiecutter.database != "none" or cookiecutter.use_redis %}from pydantic import SecretStr
from pytest_aiohttp import AiohttpClient

from {{ cookiecutter.package_name }}.app import create_app
from {{ cookiecutter.package_name }}.settings import Settings

from .helpers import Client, assert_problem
{%- else %}from .helpers import Client
{%- endif %}
{%- if cookiecutter.database == "none" and not cookiecutter.use_redis %}

HEALTHY: dict[str, str] = {}
{%- else %}

HEALTHY = {
{%- if cookiecutter.database != "none" %}
    "database": "ok",
{%- endif %}
{%- if cookiecutter.use_redis %}
    "redis": "ok",
{%- endif %}
}
{%- endif %}
{%- if cookiecutter.database == "postgresql" %}


@pytest.fixture
def broken_database_url() -> str:
    """A database server that does not answer: nothing listens on port 1 of loopback."""
    return "postgresql+asyncpg://postgres@127.0.0.1:1/test"
{%- elif cookiecutter.database == "sqlite" %}


@pytest.fixture
def broken_database_url(tmp_path: Path) -> str:
    """A file that is not a SQLite database: every connection to it fails."""
    path = tmp_path / "broken.sqlite3"
    path.write_bytes(b"this is not a database" * 100)
    return f"sqlite+aiosqlite:///{path}"
{%- endif %}


async def test_livez_answers_ok(client: Client) -> None:
    response = await client.get("/livez")
    assert response.status == 200
    assert await response.json() == {"status": "ok"}


async def test_readyz_reports_every_dependency(client: Client) -> None:
    response = await client.get("/readyz")
    assert response.status == 200
    assert await response.json() == {"status": "ok", "checks": HEALTHY}
{%- if cookiecutter.database != "none" %}


async def test_broken_database_makes_readyz_503_but_livez_200(
    aiohttp_client: AiohttpClient, settings: Settings, broken_database_url: str
) -> None:
    broken = settings.model_copy(
        update={"database_url": SecretStr(broken_database_url), "db_timeout": 2}
    )
    client = await aiohttp_client(create_app(broken))

    ready = await client.get("/readyz")
    body = await assert_problem(ready, 503)
    assert body["checks"] == {**HEALTHY, "database": "unavailable"}
    assert ready.headers["Retry-After"].isdigit()
    assert broken_database_url.rpartition("//")[2] not in await ready.text()

    live = await client.get("/livez")
    assert live.status == 200
{%- endif %}
{%- if cookiecutter.use_redis %}


async def test_unreachable_redis_makes_readyz_503_but_livez_200(
    aiohttp_client: AiohttpClient, settings: Settings
) -> None:
    broken = settings.model_copy(
        update={"redis_url": SecretStr("redis://127.0.0.1:1/0"), "redis_timeout": 1}
    )
    client = await aiohttp_client(create_app(broken))

    body = await assert_problem(await client.get("/readyz"), 503)
    assert body["checks"] == {**HEALTHY, "redis": "unavailable"}
    assert (await client.get("/livez")).status == 200
{%- endif %}
