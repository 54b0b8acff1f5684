"""The worker process: runs the jobs of this service's queue on uvloop, and its health check.

On SIGTERM (or Ctrl-C) it stops taking jobs and gives the running ones SHUTDOWN_TIMEOUT seconds
to finish; those still running then are cancelled and go back to the queue for another try.
While it runs, it keeps a health key in Redis fresh, which `worker --check` reads.
"""

import asyncio
import dataclasses
import logging
import math
import socket
from collections.abc import Coroutine, Sequence
from typing import Any, TypeVar

import uvloop
from arq import cron
from arq.connections import RedisSettings
from arq.cron import CronJob
from arq.typing import WorkerCoroutine
from arq.worker import Function, Worker, async_check_health
from redis.exceptions import RedisError

from .jobqueue import queue_name
from .jobs import item_created, report_queue_depth
from .settings import Settings

T = TypeVar("T")

log = logging.getLogger(__name__)

FUNCTIONS: tuple[WorkerCoroutine | Function, ...] = (item_created,)
# Seconds between refreshes of the health key, which lives 1 s longer: `worker --check` fails
# soon after a worker stops refreshing it.
HEALTH_CHECK_INTERVAL = 10


def redis_settings(settings: Settings, *, retries: int = 5) -> RedisSettings:
    """The Redis settings of arq from REDIS_URL; a start tries `retries` more times, 1 s apart."""
    parsed = RedisSettings.from_dsn(settings.redis_url.get_secret_value())
    return dataclasses.replace(
        parsed, conn_timeout=math.ceil(settings.redis_timeout), conn_retries=retries
    )


def health_check_key(settings: Settings) -> str:
    """One key per host (per pod), so that a probe says whether the worker beside it runs."""
    return f"{queue_name(settings)}:health-check:{socket.gethostname()}"


def cron_jobs(settings: Settings) -> list[CronJob]:
    """The scheduled jobs. One job id for all runs: with several workers, each run happens once."""
    return [
        cron(
            report_queue_depth,
            minute=set(range(0, 60, 5)),
            job_id=f"{settings.cache_prefix}report-queue-depth",
            timeout=30,
        ),
    ]


def create_worker(
    settings: Settings,
    *,
    functions: Sequence[WorkerCoroutine | Function] = FUNCTIONS,
    burst: bool = False,
    handle_signals: bool = True,
) -> Worker:
    """The arq Worker of this service. Call it in the running loop, which arq binds to."""
    return Worker(
        functions,
        queue_name=queue_name(settings),
        cron_jobs=cron_jobs(settings),
        redis_settings=redis_settings(settings),
        burst=burst,
        handle_signals=handle_signals,
        job_completion_wait=math.ceil(settings.shutdown_timeout),
        max_jobs=settings.max_jobs,
        job_timeout=settings.job_timeout,
        keep_result=settings.job_result_ttl,
        health_check_interval=HEALTH_CHECK_INTERVAL,
        health_check_key=health_check_key(settings),
    )


async def work(
    settings: Settings, functions: Sequence[WorkerCoroutine | Function]
) -> None:
    """Run a worker until a signal stops it, then close its connections."""
    worker = create_worker(settings, functions=functions)
    try:
        await worker.async_run()
    except asyncio.CancelledError:
        # On SIGTERM or SIGINT arq cancels its own main task once the jobs had their time;
        # only a cancellation of this task itself goes on.
        task = asyncio.current_task()
        if task is not None and task.cancelling():
            raise
    finally:
        await worker.close()
    log.info("worker stopped")


def _run(main: Coroutine[Any, Any, T]) -> T:
    """Run `main` in a new uvloop event loop (no event-loop policy involved)."""
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        return runner.run(main)


def run_worker(
    settings: Settings, functions: Sequence[WorkerCoroutine | Function] = FUNCTIONS
) -> int:
    """Run the worker on uvloop; 0 after a graceful stop, 1 when Redis cannot be reached."""
    try:
        _run(work(settings, functions))
    except (RedisError, OSError) as exc:
        failure = type(exc).__name__
    else:
        return 0
    # One line that says why, rather than a traceback.
    log.error("worker stopped: Redis is unreachable (%s)", failure)
    return 1


def check_worker(settings: Settings) -> int:
    """0 when a worker on this host refreshed its health key in time, else 1."""
    probe = async_check_health(
        redis_settings(settings, retries=0),
        health_check_key(settings),
        queue_name(settings),
    )
    try:
        return _run(probe)
    except (RedisError, OSError) as exc:
        log.warning(
            "health check failed: Redis is unreachable (%s)", type(exc).__name__
        )
        return 1
