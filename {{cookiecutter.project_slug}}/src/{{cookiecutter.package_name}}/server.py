"""Serving: one process on uvloop, or WORKERS processes sharing one port (SO_REUSEPORT).

Each process shuts down gracefully on SIGTERM: it stops accepting, lets in-flight requests
finish for up to SHUTDOWN_TIMEOUT seconds, runs the cleanup contexts and exits 0.
"""

import logging
import multiprocessing
{%- if cookiecutter.use_metrics %}
import os
import shutil
{%- endif %}
import signal
import sys
{%- if cookiecutter.use_metrics %}
import tempfile
{%- endif %}

import uvloop
from aiohttp.log import access_logger

from .access import AccessLogger
from .app import create_app
from .connections import serve_app
from .logs import setup_logging
{% if cookiecutter.use_metrics %}from .metrics import MULTIPROCESS_DIR, forget_process
{% endif %}from .settings import Settings

log = logging.getLogger("{{ cookiecutter.package_name }}")


def serve(settings: Settings) -> None:
    """Run one server process until SIGINT or SIGTERM, then shut down gracefully."""
    setup_logging(settings.log_level, settings.log_format)
    log.info("serving on http://%s:%d", settings.host, settings.port)
    uvloop.run(
        serve_app(
            create_app(settings),
            host=settings.host,
            port=settings.port,
            reuse_port=settings.workers > 1,
            access_log_class=AccessLogger,
            access_log=access_logger if settings.access_log else None,
            shutdown_timeout=settings.shutdown_timeout,
            keepalive_timeout=settings.keepalive_timeout,
            header_timeout=settings.header_timeout,
            body_timeout=settings.body_timeout,
            # A request whose client has gone is cancelled; writes finish (items/context.py).
            handler_cancellation=True,
        )
    )
    log.info("stopped")


def serve_workers(settings: Settings) -> None:
    """Start WORKERS processes on one port; pass SIGTERM on and wait for them all."""
{%- if cookiecutter.use_metrics %}
    # Metrics of every worker are summed through files in a folder of this run.
    metrics_dir = tempfile.mkdtemp(prefix="{{ cookiecutter.package_name }}-metrics-")
    os.environ[MULTIPROCESS_DIR] = metrics_dir
{%- endif %}
    context = multiprocessing.get_context("spawn")
    workers = [
        context.Process(target=serve, args=(settings,), name=f"worker-{n}")
        for n in range(settings.workers)
    ]
    for worker in workers:
        worker.start()

    def forward(_signum: int, _frame: object) -> None:
        for worker in workers:
            worker.terminate()

    signal.signal(signal.SIGTERM, forward)
    # A terminal's Ctrl-C reaches every worker itself; the parent just waits for them.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    for worker in workers:
        worker.join()
{%- if cookiecutter.use_metrics %}
        if worker.pid is not None:
            forget_process(worker.pid)
    shutil.rmtree(metrics_dir, ignore_errors=True)
{%- endif %}
    # A worker still starting when SIGTERM came ends by that signal, with nothing in flight.
    clean = (0, -signal.SIGTERM)
    sys.exit(0 if all(worker.exitcode in clean for worker in workers) else 1)
