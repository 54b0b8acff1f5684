"""The load of a run: wrk, or bench/load.py where wrk is missing, and the figures it reports."""

import argparse
import json
import math
import re
import subprocess
import sys
import time

from datastores import sessions
from servers import BENCH, Figures, Target

# wrk's latency lines ("99%  2.40ms") and its units.
_WRK_PERCENTILE = re.compile(
    r"^\s*(50|99)(?:\.0+)?%\s+([\d.]+)(us|ms|s|m)\s*$", re.MULTILINE
)
_WRK_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}
_WRK_SOCKETS = re.compile(
    r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)"
)


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
    return Figures(
        int(requests[1]), float(rps[1]), percentiles[50], percentiles[99], errors
    )


# wrk's script for requests with a body: each gets the next number of this run.
_WRK_SCRIPT = """
local n = 0
wrk.method = %s
wrk.headers = %s
request = function()
  n = n + 1
  return wrk.format(nil, nil, nil, (%s):gsub("{n}", %s .. n))
end
"""


def load(
    target: Target, seconds: int, options: argparse.Namespace, wrk: str | None
) -> Figures:
    """Load the target for `seconds` with wrk when given, else with bench/load.py."""
    url, connections = (
        target.server.url(target.path),
        target.connections or options.connections,
    )
    headers = {**target.headers, "Content-Type": target.content_type}
    # Numbers in bodies start with a prefix of this run: no two runs make the same name.
    prefix = f"r{time.monotonic_ns():x}-"
    if wrk is not None:
        command = [wrk, "-t1", f"-c{connections}", f"-d{seconds}s", "--latency", url]
        if target.body is not None:
            script = options.folder / "request.lua"
            pairs = (
                f"[{json.dumps(key)}] = {json.dumps(value)}"
                for key, value in headers.items()
            )
            quoted = (json.dumps(text) for text in (target.method, target.body, prefix))
            method, body, number = quoted
            script.write_text(
                _WRK_SCRIPT % (method, "{" + ", ".join(pairs) + "}", body, number)
            )
            command += ["--script", str(script)]
        else:
            for name, value in target.headers.items():
                command += ["--header", f"{name}: {value}"]
    else:
        command = [
            sys.executable,
            str(BENCH / "load.py"),
            url,
            "--method",
            target.method,
        ]
        command += ["--connections", str(connections), "--duration", str(seconds)]
        if target.body is not None:
            command += ["--body", target.body.replace("{n}", prefix + "{n}")]
        for name, value in (
            headers if target.body is not None else target.headers
        ).items():
            command += ["--header", f"{name}: {value}"]
    done = subprocess.run(
        command, capture_output=True, text=True, timeout=seconds + 60, check=True
    )
    if wrk is not None:
        return wrk_figures(done.stdout)
    figures = json.loads(done.stdout)
    return Figures(
        figures["requests"],
        figures["rps"],
        figures["p50_ms"],
        figures["p99_ms"],
        figures["errors"],
    )


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
            figures.cpu_us = (
                used / figures.requests * 1e6 if figures.requests else math.nan
            )
            if opened is not None:
                figures.sessions_per_s = (
                    (sessions(row.server) or 0) - opened
                ) / options.duration
            row.runs.append(figures)
