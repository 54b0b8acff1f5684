"""Serving: one process on uvloop, or WORKERS supervised processes on one port (SO_REUSEPORT).

Each process shuts down gracefully on SIGTERM: it stops accepting, lets in-flight requests
finish for up to SHUTDOWN_TIMEOUT seconds, runs the cleanup contexts and exits 0.
"""

import logging
{%- if cookiecutter.use_metrics %}
import os
import shutil
{%- endif %}
import sys
{%- if cookiecutter.use_metrics %}
import tempfile
{%- endif %}
from functools import partial

import uvloop
from aiohttp.log import access_logger

from .access import AccessLogger
from .app import create_app
from .connections import serve_app
from .logs import setup_logging
{% if cookiecutter.use_metrics %}from .metrics import MULTIPROCESS_DIR, forget_process
{% endif %}from .settings import Settings
from .supervisor import Supervisor

log = logging.getLogger("{{ cookiecutter.package_name }}")


def serve(settings: Settings) -> None:
    """Run one server process until SIGINT or SIGTERM, then shut down gracefully."""
    setup_logging(settings.log_level, settings.log_format)
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
    """Run WORKERS processes on one port, replacing any that dies, until SIGTERM or SIGINT."""
    supervisor = Supervisor(
        partial(serve, settings), settings.workers, settings.shutdown_timeout
    )
{%- if cookiecutter.use_metrics %}
    # Metrics of every worker are summed through files in a folder of this run.
    metrics_dir = tempfile.mkdtemp(
        prefix="{{ cookiecutter.package_name }}-metrics-",
    )
    os.environ[MULTIPROCESS_DIR] = metrics_dir
    supervisor.on_exit = forget_process
    try:
        sys.exit(supervisor.run())
    finally:
        shutil.rmtree(metrics_dir, ignore_errors=True)
{%- else %}
    sys.exit(supervisor.run())
{%- endif %}
