{% if cookiecutter.database != "none" -%}
"""The command line: `serve` (the default) or `migrate`; settings come from the environment.

`migrate` upgrades the database schema to the latest revision.
"""
{%- else -%}
"""The command line: `serve`; settings come from the environment."""
{%- endif %}

import argparse
import logging
import sys
from collections.abc import Sequence

from pydantic import ValidationError

{% if cookiecutter.database != "none" %}from .db import migrate
{% endif %}from .logs import setup_logging
from .server import serve, serve_workers
from .settings import Settings

log = logging.getLogger("{{ cookiecutter.package_name }}")
COMMANDS = ("serve",{% if cookiecutter.database != "none" %} "migrate"{% endif %})


def load_settings() -> Settings:
    """Read the settings; a bad value stops the process with one line naming it."""
    try:
        return Settings()
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        name = ".".join(str(part) for part in first["loc"]).upper()
        # Secret settings (SecretStr) accept any text, so a value echoed here is never one.
        sys.exit(f"error: setting {name}: {first['msg']} (got {first.get('input')!r})")


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point of `python -m <package>` and of the console script."""
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
