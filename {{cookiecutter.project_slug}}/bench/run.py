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
  own, so that the rows it adds never slow the reads of the others{% if cookiecutter.auth == "jwt" %}, with a bearer token;
- service writes, no auth: the same with the write guard off (bench/open_writes.py), in a
  database of its own: the difference is what checking a token costs; and the token endpoint,
  a login (an argon2 check) per request, on 4 connections{% endif %}.

Each server but `service x2` runs on CPU 0 and the load generator on CPU 1, so that they do not
share a core. The load is wrk (-t1) when it is installed, else bench/load.py (slower than any
of the servers: its figures are only indicative). Each target is loaded in turn, for
--duration seconds, --repeat times; the table gives the medians. Then the service is loaded
for --soak seconds more to see whether its memory grows. Only what this script started is
stopped, by process id, and the temporary files and database are removed.
"""

import argparse
import contextlib
import importlib.util
import json
import os
import shutil
import signal
import sys
import tempfile
import urllib.request
from pathlib import Path
from types import FrameType

from datastores import PACKAGE, database
from loading import measure
from reporting import report, soak
from servers import BENCH, Server, Target, cpu_sets, machine
{%- if cookiecutter.auth == "jwt" %}
from users import FORM, JWT_SECRET, LOGIN, bearer, sign_up
{%- endif %}

# Items made before the runs: a full page for the list, and one of them read by id.
SEEDED = 100
# The ratios printed under the table: the first row's requests/s over the second's.
PAIRS = [
    ("service /livez", "fastapi /livez"),
    ("service x2 /livez", "service /livez"),
    ("service x2 GET item", "service GET item"),
{%- if cookiecutter.auth == "jwt" %}
    ("service POST item", "service POST item, no auth"),
{%- endif %}
]


def seed(server: Server, count: int) -> int:
    """Create `count` items through the API; return the id of the first."""
    first = 0
{%- if cookiecutter.auth == "jwt" %}
    headers = {"Content-Type": "application/json", **bearer(server)}
{%- else %}
    headers = {"Content-Type": "application/json"}
{%- endif %}
    for number in range(count):
        request = urllib.request.Request(
            server.url("/api/v1/items"),
            data=json.dumps(
                {"name": f"seed-{number}", "description": "bench"}
            ).encode(),
            headers=headers,
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            item_id: int = json.load(response)["id"]
        first = first or item_id
    return first


def servers(
    databases: tuple[dict[str, str], ...],
    server_cpus: set[int] | None,
    all_cpus: set[int] | None,
) -> list[Server]:
    """The servers to compare: bare, FastAPI (when installed), the service, two workers.

    `databases` name the database that the reads share and the one{% if cookiecutter.auth == "jwt" %} each of{% endif %} the writes fill{% if cookiecutter.auth == "jwt" %}s{% endif %}.
    """
    python, serve = sys.executable, [sys.executable, "-m", PACKAGE, "serve"]
{%- if cookiecutter.auth == "jwt" %}
    reads, writes, open_writes = databases
{%- else %}
    reads, writes = databases
{%- endif %}
    service_env = {
        **os.environ,
        "HOST": "127.0.0.1",
        "LOG_LEVEL": "INFO",
        "LOG_FORMAT": "json",
        "ACCESS_LOG": "true",
        "WORKERS": "1",
{%- if cookiecutter.auth == "jwt" %}
        "JWT_SECRET": JWT_SECRET,
{%- endif %}
{%- if cookiecutter.auth == "jwt" and cookiecutter.__redis %}
        # The token row logs in as fast as it can: the login limit would refuse it.
        "LOGIN_RATE_LIMIT": "0",
{%- endif %}
    }
    found = [
        Server(
            "bare", [python, str(BENCH / "bare_app.py")], dict(os.environ), server_cpus
        ),
        Server("service", serve, {**service_env, **reads}, server_cpus, reads),
        Server("service writes", serve, {**service_env, **writes}, server_cpus, writes),
{%- if cookiecutter.auth == "jwt" %}
        Server(
            "service writes, no auth",
            [python, str(BENCH / "open_writes.py")],
            {**service_env, **open_writes},
            server_cpus,
            open_writes,
        ),
{%- endif %}
    ]
    if all(
        importlib.util.find_spec(name) for name in ("fastapi", "uvicorn", "httptools")
    ):
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
{%- if cookiecutter.auth == "jwt" %}
            headers=bearer(running["service writes"]),
        ),
        Target(
            "service POST item, no auth",
            running["service writes, no auth"],
            "/api/v1/items",
            method="POST",
            body='{"name": "item-{n}", "description": "made by bench/run.py"}',
        ),
        # A login is an argon2 check of some 50 ms of CPU: a few connections, not a queue.
        Target(
            "service POST token",
            service,
            "/api/v1/auth/token",
            method="POST",
            body=LOGIN,
            content_type=FORM,
            connections=4,
{%- endif %}
        ),
    ]
    if "service x2" in running:
        rows.append(Target("service x2 /livez", running["service x2"], "/livez"))
        rows.append(Target("service x2 GET item", running["service x2"], item_path))
    return rows


def options() -> argparse.Namespace:
    """The command line; --quick makes a run of a few seconds for a smoke test."""
    parser = argparse.ArgumentParser(
        description="Load-test the service beside bare aiohttp."
    )
    parser.add_argument(
        "--duration", type=int, help="seconds per run (10; 2 with --quick)"
    )
    parser.add_argument(
        "--repeat", type=int, help="runs per target, for medians (3; 1)"
    )
    parser.add_argument(
        "--soak", type=int, help="seconds of load to watch memory (60; 0)"
    )
    parser.add_argument(
        "--connections", type=int, default=64, help="open connections (64)"
    )
    parser.add_argument(
        "--quick", action="store_true", help="a short run, for a smoke test"
    )
    parser.add_argument(
        "--loadgen",
        choices=("auto", "wrk", "python"),
        default="auto",
        help="wrk or load.py",
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
        print(
            "wrk not found: using bench/load.py, which saturates before the servers do."
        )
        print(
            "Install wrk (apt-get install wrk, brew install wrk) for figures worth quoting."
        )
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    server_cpus, all_cpus = cpu_sets()
    with contextlib.ExitStack() as stack:
        folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-")))
        parsed.folder = folder
        reads = stack.enter_context(database(folder, "reads"))
        writes = stack.enter_context(database(folder, "writes"))
{%- if cookiecutter.auth == "jwt" %}
        open_writes = stack.enter_context(database(folder, "open"))
        for env in (reads, writes, open_writes):
            sign_up(env)
        found = servers((reads, writes, open_writes), server_cpus, all_cpus)
{%- else %}
        found = servers((reads, writes), server_cpus, all_cpus)
{%- endif %}
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
        memory = soak(
            next(row for row in rows if row.name == "service GET item"), parsed, wrk
        )
    report(rows, parsed, machine(wrk, server_cpus, parsed), PAIRS)
    idle_text = f"{idle:.1f} MB idle; " if idle is not None else ""
    print(f"memory of the service (one worker, RSS): {idle_text}{memory}")


if __name__ == "__main__":
    main()
