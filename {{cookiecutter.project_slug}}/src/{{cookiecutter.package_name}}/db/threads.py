"""Connections that each live in a thread of their own, fed from one queue of work.

A call puts a job on the queue and awaits a future; the first free thread takes the job, runs
it on its connection and answers the future on the event loop: one hop each way, whatever the
job does. The connections are made in their threads, when the first job comes, so that a
database that is down never stops the service from starting.
"""

import asyncio
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from queue import SimpleQueue
from typing import Any, Generic, Protocol, TypeVar

from .base import UnavailableError

C = TypeVar("C")
Work = Callable[[C], Any]


class Driver(Protocol[C]):
    """How to open and close a connection, and what its errors mean to the data layer."""

    def connect(self) -> C: ...

    def close(self, connection: C) -> None: ...

    def translate(self, error: Exception) -> Exception: ...


def _resolve(future: asyncio.Future[Any], result: Any) -> None:
    if not future.done():
        future.set_result(result)


def _reject(future: asyncio.Future[Any], error: BaseException) -> None:
    if not future.done():
        future.set_exception(error)


def _translated(driver: Driver[Any], error: Exception) -> Exception:
    """The driver's reading of `error`; the error itself if that reading fails.

    A thread that let an error escape would leave its queue unserved and its callers waiting.
    """
    try:
        return driver.translate(error)
    except Exception:  # noqa: BLE001 - the caller still gets the original error
        return error


@dataclass(slots=True)
class Job(Generic[C]):
    """Work for a connection's thread, the future it answers, and when it was queued."""

    future: asyncio.Future[Any] | None
    work: Work[C]
    queued: float = field(default_factory=time.monotonic)


class Connections(Generic[C]):
    """Threads sharing one queue of jobs, each thread with a connection of its own.

    A job that waited more than `patience` seconds for a thread fails as unavailable without
    running.
    """

    def __init__(
        self, name: str, count: int, driver: Driver[C], patience: float
    ) -> None:
        self.jobs: SimpleQueue[Job[C] | None] = SimpleQueue()
        self.driver = driver
        self._patience = patience
        self._loop = asyncio.get_running_loop()
        self._stopped: list[asyncio.Future[None]] = []
        for number in range(count):
            stopped = self._loop.create_future()
            self._stopped.append(stopped)
            thread = threading.Thread(
                target=self._serve,
                args=(stopped,),
                name=f"{name}-{number}",
                daemon=True,
            )
            thread.start()

    def run(
        self, work: Work[C], queue: SimpleQueue[Job[C]] | None = None
    ) -> asyncio.Future[Any]:
        """Queue `work` (on `queue`: a job's own); the future has its result or error."""
        future = self._loop.create_future()
        (self.jobs if queue is None else queue).put(Job(future, work))
        return future

    async def close(self) -> None:
        """Let the queued jobs finish, then close the connections."""
        for _ in self._stopped:
            self.jobs.put(None)
        await asyncio.gather(*self._stopped)

    def answer(
        self, future: asyncio.Future[Any] | None, result: Any, error: Any
    ) -> None:
        """Pass a result or an error to a future of the loop, from any thread."""
        if future is None:
            return
        try:
            if error is None:
                self._loop.call_soon_threadsafe(_resolve, future, result)
            else:
                self._loop.call_soon_threadsafe(_reject, future, error)
        except RuntimeError:  # the loop has closed: nobody waits any more
            pass

    def _serve(self, stopped: asyncio.Future[None]) -> None:
        connection: C | None = None
        try:
            while (job := self.jobs.get()) is not None:
                if job.future is not None and job.future.cancelled():
                    continue
                if time.monotonic() - job.queued > self._patience:
                    waited = f"waited more than {self._patience:g} s for a connection"
                    self.answer(job.future, None, UnavailableError(waited))
                    continue
                try:
                    if connection is None:
                        connection = self.driver.connect()
                    self.answer(job.future, job.work(connection), None)
                except Exception as error:  # noqa: BLE001 - every error goes to the caller
                    self.answer(job.future, None, _translated(self.driver, error))
        finally:
            if connection is not None:
                self.driver.close(connection)
            self.answer(stopped, None, None)
