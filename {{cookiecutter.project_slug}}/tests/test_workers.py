"""Supervised workers: a dead one is replaced under load, workers that keep dying stop it all."""

import contextlib
import os
import re
import signal
import socket
import time
from pathlib import Path

import pytest

from {{ cookiecutter.package_name }}.settings import Settings
from {{ cookiecutter.package_name }}.supervisor import MAX_DEATHS

from .live import Load, Server, environment_for, server

TCP_LISTEN = "0A"


@pytest.fixture
def environment(tmp_path: Path, settings: Settings) -> dict[str, str]:
    """Two workers on a free loopback port, pointing at the test services."""
    return environment_for(tmp_path, settings, WORKERS="2")


def started(log: str) -> list[int]:
    """The process ids of the workers the supervisor started, in order."""
    return [int(pid) for pid in re.findall(r"worker-\d+ started \(pid (\d+)\)", log)]


def listening(port: int, pids: list[int]) -> set[int]:
    """Those of `pids` that hold a socket listening on loopback `port` (Linux /proc)."""
    inodes = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if fields[1] == f"0100007F:{port:04X}" and fields[3] == TCP_LISTEN:
            inodes.add(f"socket:[{fields[9]}]")
    return {pid for pid in pids if sockets_of(pid) & inodes}


def sockets_of(pid: int) -> set[str]:
    """What the file descriptors of process `pid` point to; nothing once it has ended."""
    links = set()
    with contextlib.suppress(FileNotFoundError):
        for descriptor in Path(f"/proc/{pid}/fd").iterdir():
            with contextlib.suppress(FileNotFoundError):  # closed while being read
                links.add(str(descriptor.readlink()))
    return links


def gone(pid: int) -> bool:
    return not Path(f"/proc/{pid}").exists()


@pytest.mark.skipif(not Path("/proc/net/tcp").exists(), reason="reads Linux's /proc")
def test_a_killed_worker_is_replaced_while_the_other_serves(
    environment: dict[str, str], tmp_path: Path
) -> None:
    port = int(environment["PORT"])
    with server(environment, tmp_path) as running:
        first, second = started(running.logged())
        with Load(port) as load:
            time.sleep(1)
            os.kill(first, signal.SIGKILL)
            killed = time.monotonic()
            running.wait_until(
                lambda: len(listening(port, started(running.logged()))) == 2,
                "a new worker",
            )
            replaced_within = time.monotonic() - killed
            time.sleep(1)
        assert running.stop() == 0, running.logged()
    assert replaced_within < 10
    assert listening(port, [first, second]) == set()
    assert f"worker-0 (pid {first}) killed by SIGKILL" in running.logged()
    attempted = load.served + load.not_accepted + len(load.failures)
    assert load.served >= 0.99 * attempted, (
        load.served,
        load.not_accepted,
        load.failures[:5],
    )


def test_workers_that_keep_dying_stop_the_service_with_1(
    environment: dict[str, str], tmp_path: Path
) -> None:
    with (
        socket.socket() as taken
    ):  # bound without SO_REUSEPORT: no worker can share the port
        taken.bind(("127.0.0.1", int(environment["PORT"])))
        taken.listen()
        running = Server(environment, tmp_path)
        assert running.process.wait(timeout=60) == 1, running.logged()
    deaths = re.findall(r"worker-\d+ \(pid \d+\) exited with 1", running.logged())
    assert len(deaths) == MAX_DEATHS
    assert f"{MAX_DEATHS} deaths within 30 s, stopping every worker" in running.logged()
    assert all(map(gone, started(running.logged())))


def test_sigint_stops_every_worker_gracefully(
    environment: dict[str, str], tmp_path: Path
) -> None:
    with server(environment, tmp_path) as running:
        running.process.send_signal(signal.SIGINT)
        assert running.process.wait(timeout=20) == 0, running.logged()
    assert running.logged().count('"message":"stopped"') == 2


def test_workers_stop_when_the_supervisor_is_killed(
    environment: dict[str, str], tmp_path: Path
) -> None:
    with server(environment, tmp_path) as running:
        workers = started(running.logged())
        running.process.kill()
        running.process.wait()
        deadline = time.monotonic() + 20
        while not all(map(gone, workers)) and time.monotonic() < deadline:
            time.sleep(0.1)
    assert all(map(gone, workers))
    assert running.logged().count('"message":"stopped"') == 2
