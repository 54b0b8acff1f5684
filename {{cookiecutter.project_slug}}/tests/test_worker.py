"""The worker process against a real Redis: its health check, and its graceful stop on SIGTERM."""

from pathlib import Path

from arq.jobs import JobStatus

from {{ cookiecutter.package_name }}.settings import Settings
from {{ cookiecutter.package_name }}.worker import health_check_key

from .worker_process import (
    NAPPING_WORKER,
    WORKER,
    environment_for,
    eventually,
    open_queue,
    run_check,
    worker_process,
)


async def test_check_passes_only_while_a_worker_runs(
    settings: Settings, tmp_path: Path
) -> None:
    environment = environment_for(settings)
    assert await run_check(environment, tmp_path) == 1
    async with (
        open_queue(settings) as queue,
        worker_process(WORKER, environment, tmp_path) as worker,
    ):
        key = health_check_key(settings)
        await eventually(lambda: queue.exists(key), "the worker's first health record")
        assert await run_check(environment, tmp_path) == 0
        assert await worker.stop() == 0, worker.log
        # A worker that stopped takes its health key with it: the check fails at once.
        assert not await queue.exists(key)
    assert await run_check(environment, tmp_path) == 1
    assert "worker stopped" in worker.log
    assert "Traceback" not in worker.log


async def test_sigterm_lets_the_running_job_finish_and_takes_no_new_one(
    settings: Settings, tmp_path: Path
) -> None:
    prefix = settings.cache_prefix
    async with (
        open_queue(settings) as queue,
        worker_process(NAPPING_WORKER, environment_for(settings), tmp_path) as worker,
    ):
        running = await queue.enqueue_job("nap", 1.5, _job_id=f"{prefix}nap-running")
        assert running is not None

        async def in_progress() -> bool:
            return await running.status() == JobStatus.in_progress

        await eventually(in_progress, "the start of the job")
        worker.process.terminate()
        await worker.logged("allow_pick_jobs")
        waiting = await queue.enqueue_job("nap", 0.1, _job_id=f"{prefix}nap-waiting")
        assert waiting is not None

        assert await worker.wait() == 0, worker.log
        assert await running.result(timeout=1) == "slept 1.5 s (try 1)"
        assert await waiting.status() == JobStatus.queued
    assert "Traceback" not in worker.log
