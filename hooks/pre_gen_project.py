"""Refuse invalid answers before the project is written.

Each check names the key, the value and the rule on one line; cookiecutter then removes the
half-made output folder. Answers enter this file as string literals through the `literal`
filter, so no answer is ever executed as code.
"""

import keyword
import re
import sys

ANSWERS = {
    "project_name": {{ cookiecutter.project_name | literal }},
    "project_slug": {{ cookiecutter.project_slug | literal }},
    "package_name": {{ cookiecutter.package_name | literal }},
    "description": {{ cookiecutter.description | literal }},
    "author_name": {{ cookiecutter.author_name | literal }},
    "author_email": {{ cookiecutter.author_email | literal }},
    "version": {{ cookiecutter.version | literal }},
    "python_version": {{ cookiecutter.python_version | literal }},
    "database": {{ cookiecutter.database | literal }},
    "task_queue": {{ cookiecutter.task_queue | literal }},
    "ci": {{ cookiecutter.ci | literal }},
    "license": {{ cookiecutter.license | literal }},
}
# Booleans arrive as "True"/"False"; anything else (from a replay file, say) is refused below.
FLAGS = {
    "use_redis": {{ cookiecutter.use_redis | literal }},
    "use_metrics": {{ cookiecutter.use_metrics | literal }},
    "use_tracing": {{ cookiecutter.use_tracing | literal }},
    "use_sentry": {{ cookiecutter.use_sentry | literal }},
    "use_websocket": {{ cookiecutter.use_websocket | literal }},
    "use_docker": {{ cookiecutter.use_docker | literal }},
    "use_kubernetes": {{ cookiecutter.use_kubernetes | literal }},
    "use_precommit": {{ cookiecutter.use_precommit | literal }},
}

CHOICES = {
    "python_version": ("3.11", "3.12", "3.13", "3.14"),
    "database": ("sqlite", "postgresql", "none"),
    "task_queue": ("none", "arq"),
    "ci": ("github", "gitlab", "none"),
    "license": ("MIT", "Apache-2.0", "BSD-3-Clause", "Proprietary"),
}
# Import names the generated project depends on; a package with one of these names would
# shadow it.
TAKEN_NAMES = {
    "aiohttp", "aiosqlite", "alembic", "arq", "asyncpg", "blockbuster", "mypy", "orjson",
    "opentelemetry", "prometheus_client", "pydantic", "pydantic_settings", "pytest", "redis",
    "ruff", "sentry_sdk", "sqlalchemy", "swagger_ui_bundle", "tests", "uvloop",
}  # fmt: skip
# Longer names push generated import lines past the line length that ruff enforces.
MAX_NAME = 40
SLUG = re.compile(r"[a-z][a-z0-9]*(-[a-z0-9]+)*")
PACKAGE = re.compile(r"[a-z][a-z0-9_]*")
EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s.]+")
# PEP 440 public version, canonical spelling.
VERSION = re.compile(r"([1-9][0-9]*!)?(0|[1-9][0-9]*)(\.(0|[1-9][0-9]*))*((a|b|rc)(0|[1-9][0-9]*))?"
                     r"(\.post(0|[1-9][0-9]*))?(\.dev(0|[1-9][0-9]*))?")  # fmt: skip
CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def problems() -> list[str]:
    """Return one message per broken rule, in the order of the questions."""
    found = []
    a = ANSWERS

    def refuse(key: str, rule: str) -> None:
        value = a[key] if key in a else FLAGS[key]
        found.append(f"ERROR: {key}={value!r}: {rule}")

    for key in ("project_name", "author_name"):
        if not a[key].strip():
            refuse(key, "must not be empty")
    for key in ("project_name", "author_name", "author_email", "description"):
        if CONTROL.search(a[key]):
            refuse(key, "must be a single line without control characters")
    if len(a["project_slug"]) > MAX_NAME or not SLUG.fullmatch(a["project_slug"]):
        refuse(
            "project_slug",
            f"must start with a letter and use only a-z, 0-9 and single hyphens "
            f"(at most {MAX_NAME})",
        )
    package = a["package_name"]
    if len(package) > MAX_NAME or not PACKAGE.fullmatch(package) or not package.isidentifier():
        refuse(
            "package_name",
            f"must be a lower-case Python identifier (a-z, 0-9, _; at most {MAX_NAME})",
        )
    elif keyword.iskeyword(package) or keyword.issoftkeyword(package):
        refuse("package_name", "must not be a Python keyword")
    elif package in sys.stdlib_module_names:
        refuse("package_name", "must not shadow a standard-library module")
    elif package in TAKEN_NAMES:
        refuse("package_name", "must not shadow a dependency of the generated project")
    if not EMAIL.fullmatch(a["author_email"]):
        refuse("author_email", "must look like name@example.com")
    if not VERSION.fullmatch(a["version"]):
        refuse("version", "must be a PEP 440 version such as 0.1.0")
    for key, allowed in CHOICES.items():
        if a[key] not in allowed:
            refuse(key, f"must be one of {', '.join(allowed)}")
    for key, value in FLAGS.items():
        if value not in ("True", "False"):
            refuse(key, "must be true or false")
    if FLAGS["use_kubernetes"] == "True" and FLAGS["use_docker"] != "True":
        refuse("use_kubernetes", "needs use_docker=true (the manifests deploy its image)")
    if a["task_queue"] == "arq" and FLAGS["use_redis"] != "True":
        refuse("task_queue", "needs use_redis=true (arq keeps its jobs in Redis)")
    return found


def main() -> int:
    found = problems()
    for message in found:
        print(message, file=sys.stderr)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
