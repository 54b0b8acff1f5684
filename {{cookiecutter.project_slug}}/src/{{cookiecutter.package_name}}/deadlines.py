"""Request deadlines on shared timers: one timer per slice of time, not one per request.

`asyncio.timeout()` arms a loop timer for every request and disarms it after; on a busy
server that costs more than the rest of a small request. Here the requests whose deadlines
fall in the same slice (a sixteenth of the timeout, a second at most) share one timer, so a
deadline is kept to within one slice, and never early. When it passes, the request's task is
cancelled and the cancellation turns into DeadlineExceededError, as asyncio.timeout() does.
"""

import asyncio
import math
from collections.abc import Awaitable
from typing import Any, TypeVar

T = TypeVar("T")


class DeadlineExceededError(TimeoutError):
    """The awaited call ran past its deadline and was cancelled."""


class Deadlines:
    """Run calls under a deadline of `seconds` each."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._slice = min(seconds / 16, 1.0)
        # slice number -> the tasks whose deadline falls in it; its timer expires them all.
        self._slices: dict[int, set[asyncio.Task[Any]]] = {}
        self._expired: set[asyncio.Task[Any]] = set()

    async def run(self, awaitable: Awaitable[T], loop: asyncio.AbstractEventLoop) -> T:
        """Await `awaitable` in this task; raise DeadlineExceededError if it takes too long.

        `loop` is the running loop, passed in: on Python 3.11 asking for it costs a getpid().
        """
        task = asyncio.current_task(loop)
        if task is None:
            raise RuntimeError("Deadlines.run() must be awaited in a task")
        number = math.ceil((loop.time() + self.seconds) / self._slice)
        tasks = self._slices.get(number)
        if tasks is None:
            tasks = self._slices[number] = set()
            loop.call_at(number * self._slice, self._expire, number)
        tasks.add(task)
        cancelling = task.cancelling()
        try:
            result = await awaitable
        except asyncio.CancelledError as exc:
            # Ours when the deadline cancelled the task and nobody else asked for a cancel.
            if self._was_expired(task) and task.uncancel() <= cancelling:
                raise DeadlineExceededError from exc
            raise
        except BaseException:
            if self._was_expired(task):
                task.uncancel()
            raise
        else:
            if self._expired and self._was_expired(task):
                task.uncancel()
            return result
        finally:
            tasks.discard(task)

    def _was_expired(self, task: asyncio.Task[Any]) -> bool:
        if task in self._expired:
            self._expired.discard(task)
            return True
        return False

    def _expire(self, number: int) -> None:
        for task in self._slices.pop(number, ()):
            self._expired.add(task)
            task.cancel()
