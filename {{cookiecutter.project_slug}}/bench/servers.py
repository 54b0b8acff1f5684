"""The bench's servers: started, watched (CPU, memory) and stopped, and the rows it loads."""

import argparse
import contextlib
import math
import os
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from {{ cookiecutter.package_name }}.settings import Settings

BENCH = Path(__file__).resolve().parent
PROJECT = BENCH.parent
START_TIMEOUT = 30.0


def service_settings() -> Settings:
    """The service's settings, read as the service reads them (the environment, then .env)."""
    return Settings()


def _pid(path: Path) -> int:
    return int(path.parent.name)


def free_port() -> int:
    """A TCP port nothing listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class Figures:
    """One load run: requests per second, latency percentiles, failed requests.

    `cpu_us` is the CPU time the server spent per request (Linux): unlike the rate, it
    hardly moves when other programs share the machine. `sessions_per_s` is how many
    connections the service opened to its database per second, at steady load (0 is right).
    """

    requests: int
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int
    cpu_us: float = math.nan
    # New database sessions per second of load, where the database counts them.
    sessions_per_s: float | None = None


@dataclass
class Server:
    """A process serving HTTP on a loopback port: started, and stopped, by this script."""

    name: str
    command: list[str]
    env: dict[str, str]
    cpus: set[int] | None
    # The environment that names the service's database, whose sessions the bench counts.
    database: dict[str, str] = field(default_factory=dict)
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def start(self) -> None:
        """Start the process; its output is dropped (the access log would fill a disk)."""
        env = {**self.env, "PORT": str(self.port)}
        self.process = subprocess.Popen(
            self.command,
            cwd=PROJECT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        if self.cpus is not None:
            with contextlib.suppress(ProcessLookupError):  # wait_ready reports the exit
                os.sched_setaffinity(self.process.pid, self.cpus)

    def wait_ready(self) -> None:
        """Wait until /livez answers; on failure say how to see why."""
        deadline = time.monotonic() + START_TIMEOUT
        while not answers(self.url("/livez")):
            stopped = self.process is None or self.process.poll() is not None
            if stopped or time.monotonic() > deadline:
                command = " ".join(self.command)
                sys.exit(
                    f"error: {self.name} did not start; run `{command}` to see its log"
                )
            time.sleep(0.1)

    def rss_mb(self) -> float | None:
        """Resident memory of the process (Linux), in MB."""
        status = Path(f"/proc/{self.process.pid if self.process else 0}/status")
        with contextlib.suppress(OSError):
            for line in status.read_text().splitlines():
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
        return None

    def cpu_seconds(self) -> float:
        """CPU time used so far by the process and its children (Linux; else NaN)."""
        if self.process is None or not Path(f"/proc/{self.process.pid}").is_dir():
            return math.nan
        ticks, parents = 0, {self.process.pid}
        with contextlib.suppress(OSError):
            for stat in sorted(Path("/proc").glob("[0-9]*/stat"), key=_pid):
                with contextlib.suppress(OSError, ValueError, IndexError):
                    # The fields after the command's closing parenthesis.
                    fields = stat.read_text().rpartition(")")[2].split()
                    pid = _pid(stat)
                    if pid in parents or int(fields[1]) in parents:
                        parents.add(pid)
                        ticks += int(fields[11]) + int(fields[12])
            return ticks / os.sysconf("SC_CLK_TCK")
        return math.nan

    def stop(self) -> None:
        """SIGTERM, then SIGKILL after 15 s: only this process, by its id."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


@dataclass
class Target:
    """One row of the table: a server and the request loaded on it.

    `body`, when given, is sent with `method` as `content_type`; `{n}` in it becomes a number
    that no other request of the run has (the unique names of created items). `headers` go
    with every request; `connections`, when given, replaces --connections for this row.
    """

    name: str
    server: Server
    path: str
    method: str = "GET"
    body: str | None = None
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)
    connections: int | None = None
    runs: list[Figures] = field(default_factory=list)

    def median(self) -> Figures:
        return Figures(
            requests=sum(run.requests for run in self.runs),
            rps=statistics.median(run.rps for run in self.runs),
            p50_ms=statistics.median(run.p50_ms for run in self.runs),
            p99_ms=statistics.median(run.p99_ms for run in self.runs),
            errors=sum(run.errors for run in self.runs),
            cpu_us=statistics.median(run.cpu_us for run in self.runs),
            sessions_per_s=max(
                (
                    run.sessions_per_s
                    for run in self.runs
                    if run.sessions_per_s is not None
                ),
                default=None,
            ),
        )


def answers(url: str) -> bool:
    """True when GET `url` answers 200."""
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return bool(response.status == 200)
    except OSError:
        return False


def cpu_sets() -> tuple[set[int] | None, set[int] | None]:
    """(the servers' CPU, every CPU), and this process and its load generators on another CPU.

    (None, None) where CPUs cannot be chosen (not Linux) or there is only one.
    """
    if not hasattr(os, "sched_setaffinity"):
        return None, None
    cpus = sorted(os.sched_getaffinity(0))
    if len(cpus) < 2:
        return None, None
    os.sched_setaffinity(0, {cpus[1]})
    return {cpus[0]}, set(cpus)


def machine(
    wrk: str | None, server_cpus: set[int] | None, options: argparse.Namespace
) -> str:
    """A line saying where and how the figures were taken."""
    model = "unknown CPU"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    generator = "wrk -t1" if wrk else "bench/load.py"
    pinning = "servers on CPU 0, load on CPU 1" if server_cpus else "no CPU pinning"
    return (
        f"{os.cpu_count()} CPUs ({model}), Python {sys.version.split()[0]}; "
        f"{generator}, {options.connections} connections; "
        f"{pinning}; median of {options.repeat} x {options.duration} s per target"
    )
