"""Deadlines on shared timers: a late call is cancelled and reported, nothing else is."""

import asyncio
from collections.abc import Callable
from typing import Any

import pytest

from {{ cookiecutter.package_name }}.deadlines import (
    DeadlineExceededError,
    Deadlines,
)


async def test_a_call_within_its_deadline_gives_its_result() -> None:
    loop = asyncio.get_running_loop()
    assert await Deadlines(1.0).run(asyncio.sleep(0, "done"), loop) == "done"


async def test_a_late_call_is_cancelled_and_reported_after_its_deadline() -> None:
    loop = asyncio.get_running_loop()
    cancelled = asyncio.Event()

    async def slow() -> None:
        try:
            await asyncio.sleep(5)
        except asyncio.CancelledError:
            cancelled.set()
            raise

    started = loop.time()
    with pytest.raises(DeadlineExceededError):
        await Deadlines(0.05).run(slow(), loop)
    assert loop.time() - started >= 0.049
    assert cancelled.is_set()
    task = asyncio.current_task()
    assert task is not None
    assert task.cancelling() == 0


async def test_a_cancel_from_elsewhere_stays_a_cancel() -> None:
    loop = asyncio.get_running_loop()
    running = asyncio.create_task(Deadlines(5.0).run(asyncio.sleep(5), loop))
    await asyncio.sleep(0.01)
    running.cancel()
    with pytest.raises(asyncio.CancelledError):
        await running


async def test_a_timeout_of_the_call_itself_is_not_a_deadline() -> None:
    loop = asyncio.get_running_loop()

    async def gives_up() -> None:
        raise TimeoutError("the database did not answer")

    with pytest.raises(TimeoutError) as caught:
        await Deadlines(5.0).run(gives_up(), loop)
    assert not isinstance(caught.value, DeadlineExceededError)


async def test_a_call_that_ignores_the_cancel_leaves_the_task_uncancelled() -> None:
    loop = asyncio.get_running_loop()

    async def stubborn() -> str:
        try:
            await asyncio.sleep(5)
        except asyncio.CancelledError:
            return "finished anyway"
        return "not cancelled"

    assert await Deadlines(0.05).run(stubborn(), loop) == "finished anyway"
    task = asyncio.current_task()
    assert task is not None
    assert task.cancelling() == 0


@pytest.fixture
async def ticks(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The times the running loop was asked to run Deadlines' ticks at, in order."""
    loop = asyncio.get_running_loop()
    asked: list[float] = []
    call_at = loop.call_at

    def counting_call_at(
        when: float, callback: Callable[..., Any], *args: Any, **kw: Any
    ) -> Any:
        if callback.__qualname__ == "Deadlines._tick":
            asked.append(when)
        return call_at(when, callback, *args, **kw)

    monkeypatch.setattr(loop, "call_at", counting_call_at)
    return asked


async def test_calls_due_in_the_same_slice_share_one_timer(ticks: list[float]) -> None:
    loop = asyncio.get_running_loop()
    deadlines = Deadlines(30.0)
    calls = (deadlines.run(asyncio.sleep(0.01), loop) for _ in range(200))
    await asyncio.gather(*calls)
    assert len(ticks) == 1


async def test_the_timer_stops_when_no_call_waits_and_starts_again(
    ticks: list[float],
) -> None:
    loop = asyncio.get_running_loop()
    deadlines = Deadlines(0.02)
    assert await deadlines.run(asyncio.sleep(0, "first"), loop) == "first"
    # The group of that call expires after 16 ticks of 1.25 ms; then nothing ticks any more.
    # Ticks the loop ran late (a busy machine) come one per loop turn: wait until they stop.
    settled = -1
    for _ in range(40):
        if len(ticks) == settled:
            break
        settled = len(ticks)
        await asyncio.sleep(0.05)
    await asyncio.sleep(0.05)
    assert len(ticks) == settled
    with pytest.raises(DeadlineExceededError):
        await deadlines.run(asyncio.sleep(5), loop)
    assert len(ticks) > settled
