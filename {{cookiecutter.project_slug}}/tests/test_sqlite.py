"""SQLite's faults: a file locked by another process answers 503 within DB_TIMEOUT."""

import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager

import pytest
from pytest_aiohttp import AiohttpClient

from {{ cookiecutter.package_name }}.app import create_app
from {{ cookiecutter.package_name }}.settings import Settings

from .helpers import assert_problem


@pytest.fixture
def locked_database(block_writes: Callable[[], AbstractContextManager[None]]) -> Iterator[None]:
    """Another process holds the write lock of the file for the whole test."""
    with block_writes():
        yield


@pytest.mark.usefixtures("locked_database")
async def test_a_locked_database_gives_503_within_db_timeout(
    aiohttp_client: AiohttpClient, settings: Settings
) -> None:
    client = await aiohttp_client(create_app(settings.model_copy(update={"db_timeout": 0.2})))
    started = time.monotonic()
    response = await client.post("/api/v1/items", json={"name": "waiting"})
    waited = time.monotonic() - started
    await assert_problem(response, 503)
    assert response.headers["Retry-After"].isdigit()
    # SQLite's busy timeout is DB_TIMEOUT too: it waited for the lock that long, no longer.
    assert 0.2 <= waited < 1.0
