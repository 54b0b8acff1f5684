"""Prometheus metrics: request count, latency histogram and in-flight gauge, served at /metrics.

Routes are labelled by their resource (`/api/v1/items/{item_id}`), never the raw path, and
an unknown method as "other", so a client cannot grow the number of series. The registry
belongs to the app, not the module.
With WORKERS > 1 every worker writes its samples to files in PROMETHEUS_MULTIPROC_DIR and
/metrics answers the sum over all workers, whichever worker is asked.
"""

import asyncio
import os
import time
from typing import Final

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware
from aiohttp.web_urldispatcher import AbstractResource
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
)
from prometheus_client.exposition import generate_latest
from prometheus_client.multiprocess import MultiProcessCollector, mark_process_dead

from .middlewares import add_middleware
from .routing import Endpoint, add_endpoints

_UNMATCHED: Final = "<unmatched>"
_METHODS: Final = frozenset(
    ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
)
_OTHER: Final = "other"
# prometheus_client switches to its multi-process mode when this is set before it is imported.
MULTIPROCESS_DIR: Final = "PROMETHEUS_MULTIPROC_DIR"


class Metrics:
    """The service's collectors, in a registry of their own.

    The request path only notes each answer; the notes are applied to the collectors once
    per event-loop iteration and before every scrape. A busy server so takes the collectors'
    locks once per note in one tight loop, not four times in every request.
    """

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "http_requests",
            "HTTP requests answered.",
            ("method", "route", "status"),
            registry=self.registry,
        )
        self.latency = Histogram(
            "http_request_duration_seconds",
            "Time to answer an HTTP request.",
            ("method", "route"),
            registry=self.registry,
        )
        self.in_progress = Gauge(
            "http_requests_in_progress",
            "HTTP requests being answered.",
            registry=self.registry,
            multiprocess_mode="livesum",
        )
        # What /metrics exposes: this process's registry, or the sum over all workers.
        self.exposed = self.registry
        if os.environ.get(MULTIPROCESS_DIR):
            self.exposed = CollectorRegistry()
            MultiProcessCollector(self.exposed)  # type: ignore[no-untyped-call]
        self.in_flight = 0
        # (method, route resource, status, seconds): labels are worked out in `apply`.
        self._notes: list[tuple[str, AbstractResource | None, int, float]] = []
        self._applying_on: asyncio.AbstractEventLoop | None = None
        # `labels()` builds a tuple and takes a lock on every call: each child is kept here.
        self._counters: dict[tuple[str, str, int], Counter] = {}
        self._histograms: dict[tuple[str, str], Histogram] = {}

    def note(self, request: web.Request, status: int, seconds: float) -> None:
        """Record the answer to `request`; its loop applies the note at its next iteration."""
        self._notes.append(
            (request.method, request.match_info.route.resource, status, seconds)
        )
        loop = request.task.get_loop()
        if self._applying_on is not loop:
            self._applying_on = loop
            loop.call_soon(self.apply)

    def apply(self) -> None:
        """Move the noted answers, and the number of requests in flight, into the collectors."""
        self._applying_on = None
        notes, self._notes = self._notes, []
        self.in_progress.set(self.in_flight)
        answers: dict[tuple[str, str, int], int] = {}
        for asked, resource, status, seconds in notes:
            method = asked if asked in _METHODS else _OTHER
            route = resource.canonical if resource is not None else _UNMATCHED
            histogram = self._histograms.get((method, route))
            if histogram is None:
                histogram = self._histograms[method, route] = self.latency.labels(
                    method, route
                )
            histogram.observe(seconds)
            key = (method, route, status)
            answers[key] = answers.get(key, 0) + 1
        for key, count in answers.items():
            counter = self._counters.get(key)
            if counter is None:
                counter = self._counters[key] = self.requests.labels(*key)
            counter.inc(count)


metrics_key = web.AppKey("metrics", Metrics)


async def metrics_view(request: web.Request) -> web.Response:
    """The Prometheus text exposition (in a thread: the multi-process mode reads files)."""
    metrics = request.app[metrics_key]
    metrics.apply()
    body = await asyncio.to_thread(generate_latest, metrics.exposed)
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})


# The status noted for a request whose client hung up before its answer (nginx's 499).
CLIENT_CLOSED: Final = 499


def metrics_middleware(metrics: Metrics) -> Middleware:
    """Note each answer's method, route, status and time in `metrics`."""

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        start = time.perf_counter()
        metrics.in_flight += 1
        status = 500
        try:
            response = await handler(request)
            status = response.status
        except (
            web.HTTPException
        ) as exc:  # a redirect: problem_middleware answers the rest
            status = exc.status
            raise
        except asyncio.CancelledError:
            # The client hung up (a deadline is answered 504 inside): not a server error.
            status = CLIENT_CLOSED
            raise
        finally:
            metrics.in_flight -= 1
            metrics.note(request, status, time.perf_counter() - start)
        return response

    return middleware


def forget_process(pid: int) -> None:
    """Drop the live gauges of a worker that has exited (multi-process mode)."""
    mark_process_dead(pid)  # type: ignore[no-untyped-call]


ENDPOINTS = (
    Endpoint(method="GET", path="/metrics", handler=metrics_view, summary="Prometheus metrics",
             tag="monitoring", media_type="text/plain"),
)  # fmt: skip


def setup_metrics(app: web.Application) -> None:
    """Collect the metrics of every answer and serve them at /metrics."""
    metrics = app[metrics_key] = Metrics()
    add_middleware(app, metrics_middleware(metrics))
    add_endpoints(app, ENDPOINTS)
