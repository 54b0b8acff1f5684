"""Background jobs against a real Redis: queued by the API, run by a real worker in this loop."""

import logging
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

import pytest
from arq.connections import ArqRedis
from arq.jobs import Job, JobStatus
from arq.worker import Worker
from pydantic import SecretStr
from pytest_aiohttp import AiohttpClient

from {{ cookiecutter.package_name }}.app import create_app
from {{ cookiecutter.package_name }}.items.repository import Item
from {{ cookiecutter.package_name }}.jobqueue import (
    enqueue_item_created,
    item_created_job_id,
    queue_name,
)
from {{ cookiecutter.package_name }}.jobs import (
    item_created,
    report_queue_depth,
)
from {{ cookiecutter.package_name }}.settings import Settings
from {{ cookiecutter.package_name }}.worker import create_worker

from .helpers import Client, create_item
from .worker_process import open_queue

JOBS_LOGGER = "{{ cookiecutter.package_name }}.jobs"
QUEUE_LOGGER = "{{ cookiecutter.package_name }}.jobqueue"


@pytest.fixture
async def queue(settings: Settings) -> AsyncIterator[ArqRedis]:
    """The test's queue; its keys are deleted after the test."""
    async with open_queue(settings) as pool:
        yield pool


async def run_burst(settings: Settings) -> Worker:
    """Run a worker in this loop until the queue is empty (no signal handlers: pytest owns them)."""
    worker = create_worker(settings, burst=True, handle_signals=False)
    try:
        await worker.async_run()
    finally:
        await worker.close()
    return worker


def as_item(body: dict[str, Any]) -> Item:
    """The item of an API answer, its timestamps as datetimes again."""
    return Item(
        id=body["id"],
        name=body["name"],
        description=body["description"],
        version=body["version"],
        created_at=datetime.fromisoformat(body["created_at"]),
        updated_at=datetime.fromisoformat(body["updated_at"]),
    )


def job_of(queue: ArqRedis, settings: Settings, created: dict[str, Any]) -> Job:
    job_id = item_created_job_id(settings.cache_prefix, as_item(created))
    return Job(job_id, queue, _queue_name=queue_name(settings))


async def test_a_new_item_is_announced_by_the_worker(
    client: Client, settings: Settings, queue: ArqRedis
) -> None:
    created = await create_item(client, "lamp")
    job = job_of(queue, settings, created)
    assert await job.status() == JobStatus.queued
    info = await job.info()
    assert info is not None
    assert (info.function, info.args) == ("item_created", (created["id"], "lamp"))

    worker = await run_burst(settings)
    assert worker.jobs_failed == 0
    assert await job.status() == JobStatus.complete
    assert await job.result(timeout=5) == f"item {created['id']} (lamp) announced"


async def test_an_item_is_queued_once(
    client: Client, settings: Settings, queue: ArqRedis
) -> None:
    created = await create_item(client, "kettle")
    assert await enqueue_item_created(client.app, as_item(created)) is None
    queued = [job.job_id for job in await queue.queued_jobs()]
    assert queued == [job_of(queue, settings, created).job_id]


async def test_item_created_logs_the_item(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger=JOBS_LOGGER):
        result = await item_created({"job_id": "j1"}, 7, "cup")
    assert result == "item 7 (cup) announced"
    (record,) = caplog.records
    assert record.getMessage() == "item 7 created"
    assert (record.__dict__["item_name"], record.__dict__["job_id"]) == ("cup", "j1")


async def test_queue_depth_is_reported_every_five_minutes(settings: Settings) -> None:
    worker = create_worker(settings, handle_signals=False)
    (report,) = worker.cron_jobs
    assert report.coroutine is report_queue_depth
    assert report.minute == set(range(0, 60, 5))
    assert report.second == 0
    # The same id for every run, with the service's prefix: several workers run it once.
    assert report.job_id == f"{settings.cache_prefix}report-queue-depth"
    assert worker.functions[report.name] is report


async def test_queue_depth_counts_due_and_deferred_jobs(
    queue: ArqRedis, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    prefix = settings.cache_prefix
    await queue.enqueue_job("item_created", 1, "due", _job_id=f"{prefix}due")
    await queue.enqueue_job(
        "item_created", 2, "later", _job_id=f"{prefix}later", _defer_by=3600
    )
    with caplog.at_level(logging.INFO, logger=JOBS_LOGGER):
        depth = await report_queue_depth({"redis": queue})
    assert (depth["due"], depth["deferred"]) == (1, 1)
    assert 0 <= depth["oldest_wait_s"] < 60
    assert "queue depth: 1 due, 1 deferred" in caplog.text


async def test_a_job_lost_to_a_redis_outage_is_logged_and_the_item_still_created(
    aiohttp_client: AiohttpClient, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    down = settings.model_copy(
        update={"redis_url": SecretStr("redis://127.0.0.1:1/0"), "redis_timeout": 1}
    )
    client = await aiohttp_client(create_app(down))
    with caplog.at_level(logging.WARNING, logger=QUEUE_LOGGER):
        response = await client.post("/api/v1/items", json={"name": "lost job"})
    assert response.status == 201
    url = response.headers["Location"]
    assert (await client.get(url)).status == 200
    (record,) = [r for r in caplog.records if r.name == QUEUE_LOGGER]
    assert record.levelno == logging.WARNING
    assert record.getMessage().startswith("job lost: ")
    assert "item-created:" in record.getMessage()
    assert (await client.delete(url)).status == 204
