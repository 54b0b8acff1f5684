"""Load test: the service beside a bare aiohttp app and a FastAPI app, on this machine.

`make bench` (or `.venv/bin/python bench/run.py --help`) starts on free loopback ports:

- bare: bench/bare_app.py, aiohttp on uvloop answering /livez, no middleware, no access log;
- fastapi: bench/fastapi_app.py, FastAPI on uvicorn (uvloop, httptools, no access log);
- service: the service as deployed, with JSON logs, the access log{% if cookiecutter.use_metrics %} and metrics{% endif %} on, and
  SEEDED items to read back
{%- if cookiecutter.database == "sqlite" %}
  from a fresh SQLite file, migrated;
{%- elif cookiecutter.database == "postgresql" %}
  from a database made for the run on the server of DATABASE_URL, migrated, dropped after;
{%- else %}
  (from memory: no database);
{%- endif %}
- service x2: the same with WORKERS=2, on every CPU;
- service writes: the same as service, creating items with unique names in a database of its
  own, so that the rows it adds never slow the reads of the others.

Each server but `service x2` runs on CPU 0 and the load generator on CPU 1, so that they do not
share a core. The load is wrk (-t1) when it is installed, else bench/load.py (slower than any
of the servers: its figures are only indicative). Each target is loaded in turn, for
--duration seconds, --repeat times; the table gives the medians. Then the service is loaded
for --soak seconds more to see whether its memory grows. Only what this script started is
stopped, by process id, and the temporary files and database are removed.
"""

import argparse
{%- if cookiecutter.database == "postgresql" %}
import asyncio
{%- endif %}
import contextlib
import importlib.util
import json
import math
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
{%- if cookiecutter.database == "postgresql" %}
import uuid
{%- endif %}
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
{%- if cookiecutter.database == "postgresql" %}
from typing import Any
{%- endif %}

{%- if cookiecutter.database == "postgresql" %}

from sqlalchemy import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from {{ cookiecutter.package_name }}.settings import Settings
{%- endif %}

PACKAGE = "{{ cookiecutter.package_name }}"
BENCH = Path(__file__).resolve().parent
PROJECT = BENCH.parent
START_TIMEOUT = 30.0
# Items made before the runs: a full page for the list, and one of them read by id.
SEEDED = 100
# wrk's latency lines ("99%  2.40ms") and its units.
_WRK_PERCENTILE = re.compile(r"^\s*(50|99)(?:\.0+)?%\s+([\d.]+)(us|ms|s|m)\s*$", re.MULTILINE)
_WRK_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}
_WRK_SOCKETS = re.compile(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)")


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
        self.process = subprocess.Popen(  # noqa: S603 - our own interpreter and scripts
            self.command, cwd=PROJECT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
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
                sys.exit(f"error: {self.name} did not start; run `{command}` to see its log")
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

    `body`, when given, is sent with `method` as JSON; `{n}` in it becomes a number that no
    other request of the run has (the unique names of created items).
    """

    name: str
    server: Server
    path: str
    method: str = "GET"
    body: str | None = None
    runs: list[Figures] = field(default_factory=list)

    def median(self) -> Figures:
        return Figures(
            requests=sum(run.requests for run in self.runs),
            rps=statistics.median(run.rps for run in self.runs),
            p50_ms=statistics.median(run.p50_ms for run in self.runs),
            p99_ms=statistics.median(run.p99_ms for run in self.runs),
            errors=sum(run.errors for run in self.runs),
            cpu_us=statistics.median(run.cpu_us for run in self.runs),
            sessions_per_s=max((run.sessions_per_s or 0 for run in self.runs), default=0)
            if any(run.sessions_per_s is not None for run in self.runs)
            else None,
        )


def answers(url: str) -> bool:
    """True when GET `url` answers 200."""
    try:
        with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - loopback http
            return bool(response.status == 200)
    except OSError:
        return False


def seed(server: Server, count: int) -> int:
    """Create `count` items through the API; return the id of the first."""
    first = 0
    for number in range(count):
        request = urllib.request.Request(  # noqa: S310 - loopback http
            server.url("/api/v1/items"),
            data=json.dumps({"name": f"seed-{number}", "description": "bench"}).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - loopback
            item_id: int = json.load(response)["id"]
        first = first or item_id
    return first


def wrk_figures(output: str) -> Figures:
    """Figures from wrk's --latency report."""
    rps = re.search(r"Requests/sec:\s+([\d.]+)", output)
    requests = re.search(r"(\d+) requests in", output)
    percentiles = {
        int(match[1]): float(match[2]) * _WRK_UNITS[match[3]]
        for match in _WRK_PERCENTILE.finditer(output)
    }
    if rps is None or requests is None or set(percentiles) != {50, 99}:
        sys.exit(f"error: cannot read wrk's report:\n{output}")
    non_2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    sockets = _WRK_SOCKETS.search(output)
    errors = int(non_2xx[1]) if non_2xx else 0
    errors += sum(int(count) for count in sockets.groups()) if sockets else 0
    return Figures(int(requests[1]), float(rps[1]), percentiles[50], percentiles[99], errors)


# wrk's script for requests with a body: each gets the next number of this run.
_WRK_SCRIPT = """
local n = 0
wrk.method = %s
wrk.headers["Content-Type"] = "application/json"
request = function()
  n = n + 1
  return wrk.format(nil, nil, nil, (%s):gsub("{n}", %s .. n))
end
"""


def load(target: Target, seconds: int, options: argparse.Namespace, wrk: str | None) -> Figures:
    """Load the target for `seconds` with wrk when given, else with bench/load.py."""
    url, connections = target.server.url(target.path), options.connections
    # Numbers in bodies start with a prefix of this run: no two runs make the same name.
    prefix = f"r{time.monotonic_ns():x}-"
    if wrk is not None:
        command = [wrk, "-t1", f"-c{connections}", f"-d{seconds}s", "--latency", url]
        if target.body is not None:
            script = options.folder / "request.lua"
            quoted = (json.dumps(text) for text in (target.method, target.body, prefix))
            script.write_text(_WRK_SCRIPT % tuple(quoted))
            command += ["--script", str(script)]
    else:
        command = [sys.executable, str(BENCH / "load.py"), url, "--method", target.method]
        command += ["--connections", str(connections), "--duration", str(seconds)]
        if target.body is not None:
            command += ["--body", target.body.replace("{n}", prefix + "{n}")]
    done = subprocess.run(  # noqa: S603 - wrk from the PATH or our own script
        command, capture_output=True, text=True, timeout=seconds + 60, check=True
    )
    if wrk is not None:
        return wrk_figures(done.stdout)
    figures = json.loads(done.stdout)
    return Figures(
        figures["requests"], figures["rps"], figures["p50_ms"], figures["p99_ms"], figures["errors"]
    )
{%- if cookiecutter.database == "sqlite" %}


@contextlib.contextmanager
def database(folder: Path, name: str) -> Iterator[dict[str, str]]:
    """A fresh SQLite file in `folder`, migrated; yields the environment that names it."""
    env = {"DATABASE_URL": f"sqlite+aiosqlite:///{folder / name}.sqlite3"}
    migrate(env)
    yield env


def sessions(_server: Server) -> int | None:
    """A SQLite file has no sessions to count."""
    return None
{%- elif cookiecutter.database == "postgresql" %}


async def _autocommit(server_url: str, statement: str, *arguments: str) -> Any:
    engine = create_async_engine(server_url, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as connection:
            result = await connection.exec_driver_sql(statement, arguments)
            return result.scalar() if result.returns_rows else None
    finally:
        await engine.dispose()


def sessions(server: Server) -> int | None:
    """Sessions opened so far on the server's database (PostgreSQL counts them)."""
    if "DATABASE_URL" not in server.database:
        return None
    url = make_url(server.database["DATABASE_URL"])
    count = asyncio.run(
        _autocommit(
            url.set(database="postgres").render_as_string(hide_password=False),
            "SELECT sessions FROM pg_stat_database WHERE datname = $1",
            str(url.database),
        )
    )
    return int(count or 0)


@contextlib.contextmanager
def database(_folder: Path, purpose: str) -> Iterator[dict[str, str]]:
    """A new database on the server of DATABASE_URL, migrated, dropped at the end."""
    server_url = Settings().database_url.get_secret_value()
    name = f"bench_{purpose}_{uuid.uuid4().hex[:12]}"
    asyncio.run(_autocommit(server_url, f'CREATE DATABASE "{name}"'))
    try:
        url = make_url(server_url).set(database=name).render_as_string(hide_password=False)
        env = {"DATABASE_URL": url}
        migrate(env)
        yield env
    finally:
        asyncio.run(_autocommit(server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
{%- else %}


@contextlib.contextmanager
def database(_folder: Path, _name: str) -> Iterator[dict[str, str]]:
    """No database: the items live in each service's memory."""
    yield {}


def sessions(_server: Server) -> int | None:
    """No database, no sessions to count."""
    return None
{%- endif %}
{%- if cookiecutter.database != "none" %}


def migrate(env: dict[str, str]) -> None:
    """Bring the database named in `env` to the latest schema."""
    subprocess.run(  # noqa: S603 - our own interpreter
        [sys.executable, "-m", PACKAGE, "migrate"],
        cwd=PROJECT,
        env={**os.environ, **env},
        check=True,
        capture_output=True,
    )
{%- endif %}


def servers(
    databases: tuple[dict[str, str], dict[str, str]],
    server_cpus: set[int] | None,
    all_cpus: set[int] | None,
) -> list[Server]:
    """The servers to compare: bare, FastAPI (when installed), the service, two workers.

    `databases` name the database that the reads share and the one the writes fill.
    """
    python, serve = sys.executable, [sys.executable, "-m", PACKAGE, "serve"]
    reads, writes = databases
    service_env = {
        **os.environ,
        "HOST": "127.0.0.1",
        "LOG_LEVEL": "INFO",
        "LOG_FORMAT": "json",
        "ACCESS_LOG": "true",
        "WORKERS": "1",
    }
    found = [
        Server("bare", [python, str(BENCH / "bare_app.py")], dict(os.environ), server_cpus),
        Server("service", serve, {**service_env, **reads}, server_cpus, reads),
        Server("service writes", serve, {**service_env, **writes}, server_cpus, writes),
    ]
    if all(importlib.util.find_spec(name) for name in ("fastapi", "uvicorn", "httptools")):
        fastapi = [python, str(BENCH / "fastapi_app.py")]
        found.insert(1, Server("fastapi", fastapi, dict(os.environ), server_cpus))
    else:
        print("FastAPI is not installed: `make bench` installs the bench extra.")
    if (os.cpu_count() or 1) > 1:
        two = {**service_env, **reads, "WORKERS": "2"}
        found.append(Server("service x2", serve, two, all_cpus, reads))
    return found


def targets(running: dict[str, Server], item_path: str) -> list[Target]:
    """The rows of the table: /livez on every server; reads and writes of items on the service."""
    service = running["service"]
    rows = [
        Target(f"{name} /livez", running[name], "/livez")
        for name in ("bare", "fastapi")
        if name in running
    ]
    rows += [
        Target("service /livez", service, "/livez"),
        Target("service GET item", service, item_path),
        Target("service GET items?limit=20", service, "/api/v1/items?limit=20"),
        Target(
            "service POST item",
            running["service writes"],
            "/api/v1/items",
            method="POST",
            body='{"name": "item-{n}", "description": "made by bench/run.py"}',
        ),
    ]
    if "service x2" in running:
        rows.append(Target("service x2 /livez", running["service x2"], "/livez"))
        rows.append(Target("service x2 GET item", running["service x2"], item_path))
    return rows


def measure(rows: list[Target], options: argparse.Namespace, wrk: str | None) -> None:
    """Warm every target up (not with --quick), then load each in turn, `--repeat` rounds."""
    if not options.quick:
        for row in rows:
            load(row, 2, options, wrk)
    for _ in range(options.repeat):
        for row in rows:
            before, opened = row.server.cpu_seconds(), sessions(row.server)
            figures = load(row, options.duration, options, wrk)
            used = row.server.cpu_seconds() - before
            figures.cpu_us = used / figures.requests * 1e6 if figures.requests else math.nan
            if opened is not None:
                figures.sessions_per_s = ((sessions(row.server) or 0) - opened) / options.duration
            row.runs.append(figures)


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


def machine(wrk: str | None, server_cpus: set[int] | None, options: argparse.Namespace) -> str:
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


def report(rows: list[Target], options: argparse.Namespace, header: str) -> None:
    """Print the table and the ratios that matter."""
    medians = {row.name: row.median() for row in rows}
    bare = medians["bare /livez"].rps
    print(header)
    print(
        f"{'target':<34}{'rps':>9}{'p50 ms':>9}{'p99 ms':>9}{'errors':>8}{'CPU us':>8}"
        f"{'vs bare':>9}"
    )
    for name, figures in medians.items():
        print(
            f"{name:<34}{figures.rps:>9.0f}{figures.p50_ms:>9.2f}{figures.p99_ms:>9.2f}"
            f"{figures.errors:>8}{figures.cpu_us:>8.1f}{figures.rps / bare:>8.2f}x"
        )
    print("(CPU us: the server's CPU time per request, in microseconds; vs bare: rps / bare rps)")
    if any(figures.errors for figures in medians.values()):
        print("(errors: answers of 400 and up, and requests given up on: wrk waits 2 s at most)")
    opening = {name: figures.sessions_per_s for name, figures in medians.items()}
    if any(rate is not None for rate in opening.values()):
        counted = ", ".join(
            f"{name} {rate:.1f}" for name, rate in opening.items() if rate is not None
        )
        print(f"new database sessions per second under load (the most of the runs): {counted}")
    pairs = [
        ("service /livez", "fastapi /livez"),
        ("service x2 /livez", "service /livez"),
        ("service x2 GET item", "service GET item"),
    ]
    for first, second in pairs:
        if first in medians and second in medians:
            ratio = medians[first].rps / medians[second].rps
            print(f"{first} vs {second}: {ratio:.2f}x")
    if options.duration < 5 or options.repeat < 3:
        print("(a short run: `make bench` without --quick takes figures worth comparing)")


def soak(target: Target, options: argparse.Namespace, wrk: str | None) -> str:
    """Memory of the target's server now and, with --soak, after that many seconds more of load."""
    before = target.server.rss_mb()
    if before is None:
        return "not measured (no /proc on this system)"
    text = f"{before:.1f} MB after the runs"
    if options.soak:
        figures = load(target, options.soak, options, wrk)
        after = target.server.rss_mb() or before
        text += (
            f"; {after:.1f} MB after {options.soak} s more on {target.path} "
            f"({(after / before - 1) * 100:+.1f} %; {figures.rps:.0f} rps, "
            f"p99 {figures.p99_ms:.2f} ms)"
        )
    return text


def options() -> argparse.Namespace:
    """The command line; --quick makes a run of a few seconds for a smoke test."""
    parser = argparse.ArgumentParser(description="Load-test the service beside bare aiohttp.")
    parser.add_argument("--duration", type=int, help="seconds per run (10; 2 with --quick)")
    parser.add_argument("--repeat", type=int, help="runs per target, for medians (3; 1)")
    parser.add_argument("--soak", type=int, help="seconds of load to watch memory (60; 0)")
    parser.add_argument("--connections", type=int, default=64, help="open connections (64)")
    parser.add_argument("--quick", action="store_true", help="a short run, for a smoke test")
    parser.add_argument(
        "--loadgen", choices=("auto", "wrk", "python"), default="auto", help="wrk or load.py"
    )
    parsed = parser.parse_args()
    quick = parsed.quick
    parsed.duration = parsed.duration or (2 if quick else 10)
    parsed.repeat = parsed.repeat or (1 if quick else 3)
    parsed.soak = (0 if quick else 60) if parsed.soak is None else parsed.soak
    return parsed


def _stop_on_sigterm(_signum: int, _frame: FrameType | None) -> None:
    sys.exit(143)


def main() -> None:
    """Start the servers, load them, stop them, print the figures."""
    parsed = options()
    wrk = None if parsed.loadgen == "python" else shutil.which("wrk")
    if wrk is None and parsed.loadgen == "wrk":
        sys.exit("error: wrk is not installed (apt-get install wrk, brew install wrk)")
    if wrk is None and parsed.loadgen == "auto":
        print("wrk not found: using bench/load.py, which saturates before the servers do.")
        print("Install wrk (apt-get install wrk, brew install wrk) for figures worth quoting.")
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    server_cpus, all_cpus = cpu_sets()
    with contextlib.ExitStack() as stack:
        folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-")))
        parsed.folder = folder
        reads = stack.enter_context(database(folder, "reads"))
        writes = stack.enter_context(database(folder, "writes"))
        found = servers((reads, writes), server_cpus, all_cpus)
        running = {server.name: server for server in found}
        for server in running.values():
            stack.callback(server.stop)
        for server in running.values():
            server.start()
        for server in running.values():
            server.wait_ready()
        item_path = f"/api/v1/items/{seed(running['service'], SEEDED)}"
        idle = running["service"].rss_mb()
        rows = targets(running, item_path)
        measure(rows, parsed, wrk)
        memory = soak(next(row for row in rows if row.name == "service GET item"), parsed, wrk)
    report(rows, parsed, machine(wrk, server_cpus, parsed))
    idle_text = f"{idle:.1f} MB idle; " if idle is not None else ""
    print(f"memory of the service (one worker, RSS): {idle_text}{memory}")


if __name__ == "__main__":
    main()
