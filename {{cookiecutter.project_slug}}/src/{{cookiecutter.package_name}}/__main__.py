"""The command line: `serve` (the default){% if cookiecutter.database != "none" %} or `migrate`{% endif %}.

`serve` (the default) runs the app on uvloop; WORKERS > 1 starts that many processes that
share the port through SO_REUSEPORT.{% if cookiecutter.database != "none" %} `migrate` upgrades the database schema.{% endif %}
"""

import argparse
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
from collections.abc import Sequence

import uvloop
from aiohttp import web
from aiohttp.log import access_logger
from pydantic import ValidationError

from .app import create_app
{% if cookiecutter.database != "none" %}from .db import ensure_sqlite_folder, migrate
{% endif %}from .logs import AccessLogger, setup_logging
{% if cookiecutter.use_metrics %}from .metrics import MULTIPROCESS_DIR, forget_process
{% endif %}from .settings import Settings

log = logging.getLogger("{{ cookiecutter.package_name }}")
COMMANDS = ("serve",{% if cookiecutter.database != "none" %} "migrate"{% endif %})


def load_settings() -> Settings:
    """Read the settings; a bad value stops the process with one line naming it."""
    try:
        return Settings()
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        name = ".".join(str(part) for part in first["loc"]).upper()
        sys.exit(f"error: setting {name}: {first['msg']} (got {first.get('input')!r})")


def serve(settings: Settings) -> None:
    """Run one server process until SIGINT or SIGTERM, then shut down gracefully."""
    setup_logging(settings.log_level, settings.log_format)
{%- if cookiecutter.database != "none" %}
    ensure_sqlite_folder(settings.database_url.get_secret_value())
{%- endif %}
    log.info("serving on http://%s:%d", settings.host, settings.port)
    web.run_app(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        reuse_port=settings.workers > 1,
        access_log_class=AccessLogger,
        access_log=access_logger if settings.access_log else None,
        shutdown_timeout=settings.shutdown_timeout,
        handle_signals=True,
        print=None,
        loop=uvloop.new_event_loop(),
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
    sys.exit(max((worker.exitcode or 0) for worker in workers))


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point of `python -m {{ cookiecutter.package_name }}` and the console script."""
    parser = argparse.ArgumentParser(prog="{{ cookiecutter.project_slug }}")
    parser.add_argument("command", nargs="?", choices=COMMANDS, default="serve")
    {% if cookiecutter.database != "none" %}args = {% endif %}parser.parse_args(argv)
    settings = load_settings()
{%- if cookiecutter.database != "none" %}
    if args.command == "migrate":
        setup_logging(settings.log_level, settings.log_format)
        migrate(settings.database_url.get_secret_value())
        log.info("database schema is up to date")
        return
{%- endif %}
    if settings.workers > 1:
        setup_logging(settings.log_level, settings.log_format)
        log.info("starting %d workers on %s:%d", settings.workers, settings.host, settings.port)
        serve_workers(settings)
    else:
        serve(settings)


if __name__ == "__main__":
    main()
