"""The test queue: a connection, its cleanup, and a real worker process with a test job, `nap`.

`python -m tests.worker_process` runs the service's worker with `nap` added: a job that sleeps,
so that a test can stop the worker in the middle of one.
"""

import asyncio
import os
import signal
import sys
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, Self

from arq import create_pool
from arq.connections import ArqRedis
from redis import Redis

from {{ cookiecutter.package_name }}.__main__ import load_settings
from {{ cookiecutter.package_name }}.jobqueue import queue_name
from {{ cookiecutter.package_name }}.logs import setup_logging
from {{ cookiecutter.package_name }}.settings import Settings
from {{ cookiecutter.package_name }}.worker import (
    FUNCTIONS,
    redis_settings,
    run_worker,
)

ROOT = Path(__file__).resolve().parent.parent
TIMEOUT = 30.0
CHECK = (
    sys.executable,
    "-m",
    "{{ cookiecutter.package_name }}",
    "worker",
    "--check",
)
WORKER = (sys.executable, "-m", "{{ cookiecutter.package_name }}", "worker")
NAPPING_WORKER = (sys.executable, "-m", "tests.worker_process")


async def nap(ctx: dict[str, Any], seconds: float) -> str:
    """A job of the tests only: sleep for `seconds`."""
    await asyncio.sleep(seconds)
    return f"slept {seconds} s (try {ctx['job_try']})"


@asynccontextmanager
async def open_queue(settings: Settings) -> AsyncIterator[ArqRedis]:
    """A connection to the queue of `settings`, for the block."""
    pool = await create_pool(
        redis_settings(settings), default_queue_name=queue_name(settings)
    )
    try:
        yield pool
    finally:
        await pool.aclose()


def forget_keys(redis_url: str, prefix: str) -> None:
    """Delete the keys that start with `prefix`, and arq's keys of the jobs whose ids do."""
    with Redis.from_url(
        redis_url, socket_timeout=5, socket_connect_timeout=5
    ) as client:
        keys = [*client.scan_iter(f"{prefix}*"), *client.scan_iter(f"arq:*:{prefix}*")]
        if keys:
            client.delete(*keys)


def environment_for(settings: Settings, **more: str) -> dict[str, str]:
    """The environment of a worker process on the test queue of `settings`."""
    return {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": str(ROOT),
        "REDIS_URL": settings.redis_url.get_secret_value(),
        "CACHE_PREFIX": settings.cache_prefix,
        "LOG_FORMAT": "json",
        "SHUTDOWN_TIMEOUT": "5",
        **more,
    }


async def eventually(condition: Callable[[], Any], what: str) -> None:
    """Wait until the awaitable `condition()` is true, for TIMEOUT seconds at most."""
    try:
        async with asyncio.timeout(TIMEOUT):
            while True:
                if await condition():
                    return
                await asyncio.sleep(0.05)
    except TimeoutError:
        raise AssertionError(f"{what} did not happen in {TIMEOUT} s") from None


async def run_check(environment: dict[str, str], cwd: Path) -> int:
    """Exit status of `worker --check`, killed when it takes longer than TIMEOUT."""
    process = await asyncio.create_subprocess_exec(
        *CHECK,
        env=environment,
        cwd=cwd,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    try:
        async with asyncio.timeout(TIMEOUT):
            return await process.wait()
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()


class WorkerProcess:
    """A running worker; its log lines are collected as they come."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self.lines: list[str] = []
        self._reader = asyncio.create_task(self._read())

    @classmethod
    async def start(
        cls, command: Sequence[str], environment: dict[str, str], cwd: Path
    ) -> Self:
        process = await asyncio.create_subprocess_exec(
            *command,
            env=environment,
            cwd=cwd,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
        )
        return cls(process)

    async def _read(self) -> None:
        assert self.process.stderr is not None
        async for line in self.process.stderr:
            self.lines.append(line.decode(errors="replace"))

    @property
    def log(self) -> str:
        return "".join(self.lines)

    async def logged(self, text: str) -> None:
        async def found() -> bool:
            if self.process.returncode is not None:
                raise AssertionError(f"the worker exited early:\n{self.log}")
            return text in self.log

        await eventually(found, f"log line {text!r}")

    async def stop(self) -> int:
        """SIGTERM, then the exit status (within TIMEOUT)."""
        self.process.send_signal(signal.SIGTERM)
        return await self.wait()

    async def wait(self) -> int:
        async with asyncio.timeout(TIMEOUT):
            status = await self.process.wait()
            await self._reader
        return status

    async def kill(self) -> None:
        """Kill the process if it still runs (by its pid, through its handle)."""
        if self.process.returncode is None:
            self.process.kill()
            await self.process.wait()
        self._reader.cancel()


@asynccontextmanager
async def worker_process(
    command: Sequence[str], environment: dict[str, str], cwd: Path
) -> AsyncIterator[WorkerProcess]:
    """A worker process for the block; killed at the end if it still runs."""
    worker = await WorkerProcess.start(command, environment, cwd)
    try:
        yield worker
    finally:
        await worker.kill()


def main() -> None:
    """The service's worker, with `nap` added."""
    settings = load_settings()
    setup_logging(settings.log_level, settings.log_format)
    sys.exit(run_worker(settings, (*FUNCTIONS, nap)))


if __name__ == "__main__":
    main()
