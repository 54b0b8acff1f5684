{% if cookiecutter.database != "none" and cookiecutter.task_queue == "arq" -%}
"""The command line: `serve` (the default), `migrate` or `worker`; settings from the environment.

`migrate` upgrades the database schema to the latest revision. `worker` runs the background
jobs; `worker --check` exits 0 while a worker runs on this host.{% if cookiecutter.auth == "jwt" %} `create-user EMAIL` makes
a user, asking for the password (or reading it from stdin).{% endif %}
"""
{%- elif cookiecutter.task_queue == "arq" -%}
"""The command line: `serve` (the default) or `worker`; settings come from the environment.

`worker` runs the background jobs; `worker --check` exits 0 while a worker runs on this host.
"""
{%- elif cookiecutter.database != "none" -%}
"""The command line: `serve` (the default) or `migrate`; settings come from the environment.

`migrate` upgrades the database schema to the latest revision.{% if cookiecutter.auth == "jwt" %} `create-user EMAIL` makes a
user, asking for the password (or reading it from stdin).{% endif %}
"""
{%- else -%}
"""The command line: `serve`; settings come from the environment."""
{%- endif %}

import argparse
import logging
import sys
from collections.abc import Sequence

from pydantic import SecretStr, ValidationError

{% if cookiecutter.auth == "jwt" %}from .auth.cli import create_user
{% endif %}{% if cookiecutter.database != "none" %}from .db import migrate
{% endif %}from .logs import setup_logging
from .server import serve, serve_workers
from .settings import Settings
{% if cookiecutter.task_queue == "arq" %}from .worker import check_worker, run_worker
{% endif %}
log = logging.getLogger("{{ cookiecutter.package_name }}")
COMMANDS = ("serve",{% if cookiecutter.database != "none" %} "migrate"{% endif %}{% if cookiecutter.auth == "jwt" %}, "create-user"{% endif %}{% if cookiecutter.task_queue == "arq" %}{% if cookiecutter.database != "none" %},{% endif %} "worker"{% endif %})


def load_settings() -> Settings:
    """Read the settings; a bad value stops the process with one line naming it."""
    try:
        return Settings()
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        name = ".".join(str(part) for part in first["loc"]).upper()
        field = (
            Settings.model_fields.get(str(first["loc"][0])) if first["loc"] else None
        )
        if field is not None and field.annotation is SecretStr:
            sys.exit(f"error: setting {name}: {first['msg']}")  # never echo a secret
        sys.exit(f"error: setting {name}: {first['msg']} (got {first.get('input')!r})")


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point of `python -m <package>` and of the console script."""
    parser = argparse.ArgumentParser(prog="{{ cookiecutter.project_slug }}")
    parser.add_argument("command", nargs="?", choices=COMMANDS, default="serve")
{%- if cookiecutter.auth == "jwt" %}
    parser.add_argument("email", nargs="?", help="create-user: the new user's e-mail")
{%- endif %}
{%- if cookiecutter.task_queue == "arq" %}
    parser.add_argument(
        "--check",
        action="store_true",
        help="worker: exit 0 when a worker runs on this host",
    )
{%- endif %}
    {% if cookiecutter.database != "none" or cookiecutter.task_queue == "arq" %}args = {% endif %}parser.parse_args(argv)
{%- if cookiecutter.task_queue == "arq" %}
    if args.check and args.command != "worker":
        parser.error("--check goes with the worker command")
{%- endif %}
{%- if cookiecutter.auth == "jwt" %}
    if (args.command == "create-user") != (args.email is not None):
        parser.error("create-user takes an e-mail, and only create-user does")
{%- endif %}
    settings = load_settings()
{%- if cookiecutter.database != "none" %}
    if args.command == "migrate":
        setup_logging(settings.log_level, settings.log_format)
        migrate(settings.database_url.get_secret_value())
        log.info("database schema is up to date")
        return
{%- endif %}
{%- if cookiecutter.auth == "jwt" %}
    if args.command == "create-user":
        sys.exit(create_user(settings, args.email))
{%- endif %}
{%- if cookiecutter.task_queue == "arq" %}
    if args.command == "worker":
        setup_logging(settings.log_level, settings.log_format)
        sys.exit(check_worker(settings) if args.check else run_worker(settings))
{%- endif %}
    if settings.workers > 1:
        setup_logging(settings.log_level, settings.log_format)
        log.info(
            "starting %d workers on %s:%d",
            settings.workers,
            settings.host,
            settings.port,
        )
        serve_workers(settings)
    else:
        serve(settings)


if __name__ == "__main__":
    main()
