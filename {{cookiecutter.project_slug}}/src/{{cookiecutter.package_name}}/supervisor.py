"""Keeping WORKERS server processes alive: a dead one is replaced, with backoff.

A worker that exits while the service is not stopping is started again after a delay that
doubles with each death of the last DEATH_WINDOW seconds (0.5 s, 1 s, 2 s, 4 s). When
MAX_DEATHS workers died within that window the fault is not passing (a port taken, a bad
setting, a crash at start): every worker is stopped and the supervisor exits 1, so that the
container runtime or service manager sees the failure. SIGTERM and SIGINT stop every worker
with one SIGTERM each, which lets in-flight requests finish (a second signal would cut
aiohttp's graceful shutdown short, so workers leave the terminal's process group and hear
only the supervisor).
"""

import logging
import multiprocessing
import os
import signal
import socket
import threading
import time
from collections import deque
from collections.abc import Callable
from multiprocessing.connection import wait
from multiprocessing.process import BaseProcess
from typing import Final

log = logging.getLogger(__name__)

MAX_DEATHS: Final = 5
DEATH_WINDOW: Final = 30.0
FIRST_DELAY: Final = 0.5
# Beyond SHUTDOWN_TIMEOUT, the seconds a worker gets to run its cleanup before SIGKILL.
CLEANUP_GRACE: Final = 10.0


def _orphaned() -> None:
    """Wait for the supervisor to go, then stop this worker as SIGTERM would."""
    parent = multiprocessing.parent_process()
    if parent is not None:
        wait([parent.sentinel])
        os.kill(os.getpid(), signal.SIGTERM)


def _worker(target: Callable[[], None]) -> None:
    """A worker's start: its own process group, stopped if the supervisor dies, then `target`."""
    os.setpgrp()
    threading.Thread(target=_orphaned, name="supervisor-watch", daemon=True).start()
    target()


def _describe(exitcode: int | None) -> str:
    if exitcode is not None and exitcode < 0:
        return f"killed by {signal.Signals(-exitcode).name}"
    return f"exited with {exitcode}"


class Supervisor:
    """Runs `count` processes of `target` (picklable) until a signal, or until they keep dying.

    `on_exit`, if set, is told the id of every worker process that has ended.
    """

    def __init__(
        self,
        target: Callable[[], None],
        count: int,
        stop_timeout: float,
    ) -> None:
        self._target = target
        self._count = count
        self._stop_timeout = stop_timeout
        self.on_exit: Callable[[int], None] = lambda _pid: None
        self._context = multiprocessing.get_context("spawn")
        self._running: dict[int, BaseProcess] = {}
        self._due: dict[int, float] = {}  # slot -> monotonic time of its restart
        self._deaths: deque[float] = deque()
        self._signal: int | None = None

    def run(self) -> int:
        """Supervise until stopped; the exit status: 0 after a clean stop, 1 otherwise."""
        wake, woken = socket.socketpair()
        wake.settimeout(0)
        woken.settimeout(0)
        previous_fd = signal.set_wakeup_fd(wake.fileno())
        handlers = {
            number: signal.signal(number, self._on_signal)
            for number in (signal.SIGTERM, signal.SIGINT)
        }
        try:
            for slot in range(self._count):
                self._start(slot)
            gave_up = self._supervise(woken)
            clean = self._stop()
        finally:
            signal.set_wakeup_fd(previous_fd)
            for number, handler in handlers.items():
                signal.signal(number, handler)
            wake.close()
            woken.close()
        return 1 if gave_up or not clean else 0

    def _on_signal(self, number: int, _frame: object) -> None:
        self._signal = number

    def _start(self, slot: int) -> None:
        process = self._context.Process(
            target=_worker, args=(self._target,), name=f"worker-{slot}"
        )
        process.start()
        self._running[slot] = process
        log.info("worker-%d started (pid %s)", slot, process.pid)

    def _supervise(self, woken: socket.socket) -> bool:
        """Replace dead workers until a signal (False) or too many deaths (True)."""
        while self._signal is None:
            now = time.monotonic()
            timeout = max(0.0, min(self._due.values()) - now) if self._due else None
            sentinels = [process.sentinel for process in self._running.values()]
            wait([*sentinels, woken], timeout)
            while True:
                try:
                    woken.recv(64)
                except BlockingIOError:
                    break
            if self._signal is not None:
                break
            if self._reap():
                return True
            now = time.monotonic()
            for slot, due in list(self._due.items()):
                if due <= now:
                    del self._due[slot]
                    self._start(slot)
        log.info("%s: stopping the workers", signal.Signals(self._signal).name)
        return False

    def _reap(self) -> bool:
        """Schedule the restart of each dead worker; True when they died too often."""
        for slot, process in list(self._running.items()):
            if process.is_alive():
                continue
            process.join()
            del self._running[slot]
            if process.pid is not None:
                self.on_exit(process.pid)
            now = time.monotonic()
            self._deaths.append(now)
            while self._deaths[0] < now - DEATH_WINDOW:
                self._deaths.popleft()
            died = f"worker-{slot} (pid {process.pid}) {_describe(process.exitcode)}"
            if len(self._deaths) >= MAX_DEATHS:
                log.error(
                    "%s: %d deaths within %.0f s, stopping every worker",
                    died,
                    MAX_DEATHS,
                    DEATH_WINDOW,
                )
                return True
            delay = FIRST_DELAY * 2 ** (len(self._deaths) - 1)
            self._due[slot] = now + delay
            log.warning("%s: starting another in %.1f s", died, delay)
        return False

    def _stop(self) -> bool:
        """SIGTERM every worker, SIGKILL those still there after the grace; True if all clean."""
        self._due.clear()
        for process in self._running.values():
            process.terminate()
        deadline = time.monotonic() + self._stop_timeout + CLEANUP_GRACE
        clean = True
        for slot, process in self._running.items():
            process.join(max(0.0, deadline - time.monotonic()))
            if process.exitcode is None:
                log.error(
                    "worker-%d (pid %s) did not stop in time: killed", slot, process.pid
                )
                process.kill()
                process.join()
            # A worker still starting when SIGTERM came ends by it, with nothing in flight.
            clean = clean and process.exitcode in (0, -signal.SIGTERM)
            if process.pid is not None:
                self.on_exit(process.pid)
        self._running.clear()
        return clean
