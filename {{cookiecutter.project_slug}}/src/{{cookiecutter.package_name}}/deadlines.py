"""Request deadlines on shared timers: one tick per slice of time, not one timer per request.

`asyncio.timeout()` arms a loop timer for every request and cancels it after; under uvloop
that cost some 10 µs a request in `make bench`. Here a request joins the group of the current
slice of time (a sixteenth of the timeout, a second at most), without reading the clock, and
one timer ticks once a slice while any group waits. Each tick closes the open group; a group
expires as many ticks after it closed as make the timeout, so a deadline is kept to within
one slice, and never early. Its tasks still running are then cancelled, and the cancellation
turns into DeadlineExceededError, as asyncio.timeout() does.
"""

import asyncio
import math
from collections import deque
from collections.abc import Awaitable
from typing import Any, TypeVar

T = TypeVar("T")
Group = set[asyncio.Task[Any]]


class DeadlineExceededError(TimeoutError):
    """The awaited call ran past its deadline and was cancelled."""


class Deadlines:
    """Run calls under a deadline of `seconds` each."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._slice = min(seconds / 16, 1.0)
        # Ticks between a group's closing and its expiry: its tasks have run `seconds` by then.
        self._ticks = math.ceil(seconds / self._slice)
        self._open: Group | None = None
        # (the tick that expires it, group), oldest first.
        self._closed: deque[tuple[int, Group]] = deque()
        self._tick_number = 0
        self._next_tick: float | None = None
        self._expired: Group = set()

    async def run(self, awaitable: Awaitable[T], loop: asyncio.AbstractEventLoop) -> T:
        """Await `awaitable` in this task; raise DeadlineExceededError if it takes too long.

        `loop` is the running loop, passed in: on Python 3.11 asking for it costs a getpid().
        """
        task = asyncio.current_task(loop)
        if task is None:
            raise RuntimeError("Deadlines.run() must be awaited in a task")
        group = self._open
        if group is None:
            group = self._open_group(loop)
        group.add(task)
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
            group.discard(task)

    def _open_group(self, loop: asyncio.AbstractEventLoop) -> Group:
        group = self._open = set()
        if self._next_tick is None:
            self._next_tick = loop.time() + self._slice
            loop.call_at(self._next_tick, self._tick, loop)
        return group

    def _tick(self, loop: asyncio.AbstractEventLoop) -> None:
        """Close the open group, expire the groups whose time has come, tick on while any wait."""
        self._tick_number += 1
        if self._open is not None:
            self._closed.append((self._tick_number + self._ticks, self._open))
            self._open = None
        while self._closed and self._closed[0][0] <= self._tick_number:
            for task in self._closed.popleft()[1]:
                self._expired.add(task)
                task.cancel()
        if self._closed and self._next_tick is not None:
            self._next_tick += self._slice
            loop.call_at(self._next_tick, self._tick, loop)
        else:
            self._next_tick = None

    def _was_expired(self, task: asyncio.Task[Any]) -> bool:
        if task in self._expired:
            self._expired.discard(task)
            return True
        return False
