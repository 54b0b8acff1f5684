"""A small load generator for machines without wrk: aiohttp's client on uvloop.

`python bench/load.py URL --connections 64 --duration 10` keeps that many requests in flight
on keep-alive connections and prints one JSON object: requests, errors (answers of 400 and
up, and failed requests), seconds, rps, p50_ms and p99_ms. With `--body`, each request sends
it (with `--method`, POST by default then), `{n}` replaced by the request's number; `--header
"Name: value"` (repeated) adds headers, Content-Type among them (JSON by default).
One Python process saturates long before the server does, so its figures measure this
generator as much as the server: wrk's are the ones to quote.
"""

import argparse
import asyncio
import json
import time
from dataclasses import dataclass, field

import aiohttp
import uvloop

# A request that failed without an answer.
_FAILURES = (aiohttp.ClientError, TimeoutError)


@dataclass
class Tally:
    """What the connections saw."""

    latencies: list[float] = field(default_factory=list)
    errors: int = 0


@dataclass
class Request:
    """What each request sends; `body` has `{n}` where the request's number goes."""

    method: str
    url: str
    body: str | None
    headers: dict[str, str]
    sent: int = 0

    def next_body(self) -> bytes | None:
        self.sent += 1
        return (
            None
            if self.body is None
            else self.body.replace("{n}", str(self.sent)).encode()
        )


async def _connection(
    session: aiohttp.ClientSession, request: Request, deadline: float, tally: Tally
) -> None:
    headers = request.headers
    if request.body is not None:
        headers = {"Content-Type": "application/json", **headers}
    while (start := time.perf_counter()) < deadline:
        try:
            async with session.request(
                request.method, request.url, data=request.next_body(), headers=headers
            ) as response:
                await response.read()
                failed = response.status >= 400
        except _FAILURES:
            failed = True
        tally.latencies.append(time.perf_counter() - start)
        tally.errors += failed


def _percentile(ordered: list[float], fraction: float) -> float:
    return ordered[round(fraction * (len(ordered) - 1))] if ordered else float("nan")


async def run(request: Request, connections: int, duration: float) -> dict[str, float]:
    """Send `request` for `duration` seconds; return the figures."""
    tally = Tally()
    connector = aiohttp.TCPConnector(limit=connections)
    timeout = aiohttp.ClientTimeout(total=10)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        started = time.perf_counter()
        deadline = started + duration
        async with asyncio.TaskGroup() as group:
            for _ in range(connections):
                group.create_task(_connection(session, request, deadline, tally))
        seconds = time.perf_counter() - started
    ordered = sorted(tally.latencies)
    return {
        "requests": len(ordered),
        "errors": tally.errors,
        "seconds": seconds,
        "rps": len(ordered) / seconds,
        "p50_ms": _percentile(ordered, 0.50) * 1000,
        "p99_ms": _percentile(ordered, 0.99) * 1000,
    }


def main() -> None:
    """Parse the command line, load, print the figures as JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url")
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--method", help="GET, or POST when a body is given")
    parser.add_argument("--body", help="JSON to send; {n} becomes the request's number")
    parser.add_argument("--header", action="append", default=[], help='"Name: value"')
    args = parser.parse_args()
    method = args.method or ("POST" if args.body is not None else "GET")
    headers = dict(header.split(": ", 1) for header in args.header)
    request = Request(method, args.url, args.body, headers)
    figures = uvloop.run(run(request, args.connections, args.duration))
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
