"""Connections that each live in a thread of their own, fed from one queue of work.

A call puts a job on the queue and awaits a future; the first free thread takes the job, runs
it on its connection and answers the future on the event loop: one hop each way, whatever the
job does. The connections are made in their threads, when the first job comes, so that a
database that is down never stops the service from starting.
"""

import asyncio
import threading
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass
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
    """Work for a connection's thread and the future it answers.

    `deadline` is set when every thread was busy as the job came: it fails the job as
    unavailable unless a thread has `taken` it by then (and the job is then `expired`).
    """

    future: asyncio.Future[Any] | None
    work: Work[C]
    deadline: asyncio.TimerHandle | None = None
    taken: bool = False
    expired: bool = False


class Connections(Generic[C]):
    """Threads sharing one queue of jobs, each thread with a connection of its own.

    A job that waits more than `patience` seconds for a thread fails as unavailable without
    running, at that moment, whatever keeps the threads busy.
    """

    def __init__(
        self, name: str, count: int, driver: Driver[C], patience: float
    ) -> None:
        self.driver = driver
        self._jobs: SimpleQueue[Job[C] | None] = SimpleQueue()
        self._count = count
        self._patience = patience
        self._loop = asyncio.get_running_loop()
        # Jobs of the queue not yet finished, counted on the loop: no deadline while a thread is
        # free, which spares the common case a timer per statement.
        self._unfinished = 0
        self._claims = threading.Lock()  # a job is either taken by a thread or expired
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
        self,
        work: Work[C],
        queue: SimpleQueue[Job[C]] | None = None,
        future: asyncio.Future[Any] | None = None,
    ) -> asyncio.Future[Any]:
        """Queue `work` (on `queue`: a job's own); the future has its result or error.

        The work may answer `future` itself before it returns (a transaction, once begun).
        """
        if future is None:
            future = self._loop.create_future()
        job = Job(future, work)
        if queue is not None:
            queue.put(job)
            return future
        self._unfinished += 1
        if self._unfinished > self._count:
            job.deadline = self._loop.call_later(self._patience, self._expire, job)
        self._jobs.put(job)
        return future

    async def close(self) -> None:
        """Let the queued jobs finish, then close the connections."""
        for _ in self._stopped:
            self._jobs.put(None)
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

    def _expire(self, job: Job[C]) -> None:
        with self._claims:
            if job.taken:
                return
            job.expired = True
        self._unfinished -= 1
        waited = f"waited more than {self._patience:g} s for a connection"
        if job.future is not None:
            _reject(job.future, UnavailableError(waited))

    def _finish(self, job: Job[C], result: Any, error: BaseException | None) -> None:
        self._unfinished -= 1
        if job.deadline is not None:
            job.deadline.cancel()
        if job.future is not None:
            if error is None:
                _resolve(job.future, result)
            else:
                _reject(job.future, error)

    def _finished(self, job: Job[C], result: Any, error: BaseException | None) -> None:
        """Tell the loop, from the thread, that `job` is done."""
        with suppress(RuntimeError):  # the loop has closed: nobody waits any more
            self._loop.call_soon_threadsafe(self._finish, job, result, error)

    def _serve(self, stopped: asyncio.Future[None]) -> None:
        connection: C | None = None
        try:
            while (job := self._jobs.get()) is not None:
                with self._claims:
                    if job.expired:
                        continue
                    job.taken = True
                if job.future is not None and job.future.cancelled():
                    self._finished(job, None, None)
                    continue
                try:
                    if connection is None:
                        connection = self.driver.connect()
                    self._finished(job, job.work(connection), None)
                except Exception as error:  # noqa: BLE001 - every error goes to the caller
                    self._finished(job, None, _translated(self.driver, error))
        finally:
            if connection is not None:
                self.driver.close(connection)
            self.answer(stopped, None, None)
