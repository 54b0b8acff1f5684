"""The background jobs: coroutines the worker runs, each given arq's context first.

A job may run more than once (a worker stopped mid-job puts it back in the queue), so each
must be safe to repeat. `ctx["redis"]` is the worker's connection to the queue.
"""

import logging
import time
from typing import Any

from arq.connections import ArqRedis

log = logging.getLogger(__name__)


async def item_created(ctx: dict[str, Any], item_id: int, name: str) -> str:
    """Follow-up work on a new item, off the request path; here it announces it in the log."""
    log.info(
        "item %d created",
        item_id,
        extra={"item_name": name, "job_id": ctx.get("job_id")},
    )
    return f"item {item_id} ({name}) announced"


async def report_queue_depth(ctx: dict[str, Any]) -> dict[str, float]:
    """Log how many jobs are due (waiting or running), how many deferred, and the oldest wait.

    A growing `due` count or `oldest_wait_s` says the workers fall behind: add workers or
    raise MAX_JOBS.
    """
    redis: ArqRedis = ctx["redis"]
    queue = redis.default_queue_name
    now_ms = time.time() * 1000
    # A second of slack: the web processes that queue jobs read their own clocks.
    due = await redis.zcount(queue, "-inf", now_ms + 1000)
    total = await redis.zcard(queue)
    oldest = await redis.zrange(queue, 0, 0, withscores=True)
    oldest_wait = max(0.0, (now_ms - oldest[0][1]) / 1000) if due else 0.0
    depth = {
        "due": due,
        "deferred": total - due,
        "oldest_wait_s": round(oldest_wait, 3),
    }
    log.info(
        "queue depth: %d due, %d deferred",
        due,
        total - due,
        extra={"queue": queue, **depth},
    )
    return depth
