"""Refuse invalid answers before the project is written.

The answers enter once, as JSON data with real booleans, and go through one table of checks.
Each wrong answer prints `ERROR: <key>=<value as typed>: <the first rule it breaks>` and the hook
exits 1, so cookiecutter removes the half-made output folder. No answer is ever run as code.
"""

import json
import keyword
import re
import sys
from collections.abc import Callable
from typing import Any, NamedTuple

# The whole cookiecutter context, as cookiecutter rendered the templates with it.
CONTEXT: dict[str, Any] = json.loads({{ cookiecutter | tojson | literal }})  # noqa: E501  # fmt: skip

# Free-text questions: the templates print them as text, so the rules read them as text.
TEXT = (
    "project_name", "project_slug", "package_name", "description", "author_name",
    "author_email", "version",
)  # fmt: skip
# Yes/no questions. cookiecutter turns a typed yes/no (true, yes, y, on, 1 and their opposites,
# in any case) into a boolean before any hook or template sees it, and writes replay files with
# booleans. Text here comes from a hand-edited replay file or a cookiecutter older than 2.2, and
# the templates would read any text, "false" included, as true: it is refused.
FLAGS = (
    "use_redis", "use_metrics", "use_tracing", "use_sentry", "use_websocket", "use_docker",
    "use_kubernetes", "use_precommit",
)  # fmt: skip
CHOICES = {
    "python_version": ("3.11", "3.12", "3.13", "3.14"),
    "database": ("sqlite", "postgresql", "none"),
    "task_queue": ("none", "arq"),
    "auth": ("none", "jwt"),
    "ci": ("github", "gitlab", "none"),
    "license": ("MIT", "Apache-2.0", "BSD-3-Clause", "Proprietary"),
}
ANSWERS = {key: str(value) if key in TEXT else value for key, value in CONTEXT.items()}

# Import names the generated project depends on; a package with one of these names would
# shadow it.
TAKEN_NAMES = {
    "aiohttp", "aiosqlite", "alembic", "argon2", "arq", "asyncpg", "blockbuster", "jwt", "mypy",
    "orjson",
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
# Text echoed without quotes; anything else is echoed as a JSON string, on one line.
PLAIN = re.compile(r"[^\s\"'\\\x00-\x1f\x7f-\x9f\u2028\u2029]+")

Answers = dict[str, Any]


class Check(NamedTuple):
    key: str
    rule: Callable[[Answers], bool]  # true when the answer keeps the rule
    message: str


def filled(key: str) -> Check:
    return Check(key, lambda a: bool(a[key].strip()), "must not be empty")


def one_line(key: str) -> Check:
    rule = "must be a single line without control characters"
    return Check(key, lambda a: not CONTROL.search(a[key]), rule)


def named(key: str, pattern: re.Pattern[str], rule: str) -> Check:
    return Check(key, lambda a: pattern.fullmatch(a[key]) is not None, rule)


def choice(key: str, allowed: tuple[str, ...]) -> Check:
    return Check(key, lambda a: a[key] in allowed, f"must be one of {', '.join(allowed)}")


def flag(key: str) -> Check:
    rule = "must be true or false without quotes (the templates read any text as true)"
    return Check(key, lambda a: isinstance(a[key], bool), rule)


def identifier(package: str) -> bool:
    return len(package) <= MAX_NAME and bool(PACKAGE.fullmatch(package)) and package.isidentifier()


# The free-text answers, the choices, the yes/no answers, then the rules between answers. A key
# reports only the first rule it breaks: its later rules assume the earlier ones hold (only an
# identifier can be a keyword).
CHECKS = [
    filled("project_name"),
    one_line("project_name"),
    Check(
        "project_slug",
        lambda a: len(a["project_slug"]) <= MAX_NAME and bool(SLUG.fullmatch(a["project_slug"])),
        f"must start with a letter and use only a-z, 0-9 and single hyphens (at most {MAX_NAME})",
    ),
    Check(
        "package_name",
        lambda a: identifier(a["package_name"]),
        f"must be a lower-case Python identifier (a-z, 0-9, _; at most {MAX_NAME})",
    ),
    Check(
        "package_name",
        lambda a: (
            not keyword.iskeyword(a["package_name"])
            and not keyword.issoftkeyword(a["package_name"])
        ),
        "must not be a Python keyword",
    ),
    Check(
        "package_name",
        lambda a: a["package_name"] not in sys.stdlib_module_names,
        "must not shadow a standard-library module",
    ),
    Check(
        "package_name",
        lambda a: a["package_name"] not in TAKEN_NAMES,
        "must not shadow a dependency of the generated project",
    ),
    one_line("description"),
    filled("author_name"),
    one_line("author_name"),
    one_line("author_email"),
    named("author_email", EMAIL, "must look like name@example.com"),
    named("version", VERSION, "must be a PEP 440 version such as 0.1.0"),
    *(choice(key, allowed) for key, allowed in CHOICES.items()),
    *(flag(key) for key in FLAGS),
    Check(
        "use_kubernetes",
        lambda a: a["use_kubernetes"] is not True or a["use_docker"] is True,
        "needs use_docker=true (the manifests deploy its image)",
    ),
    Check(
        "auth",
        lambda a: a["auth"] != "jwt" or a["database"] != "none",
        "needs a database (the users live in it): database=sqlite or database=postgresql",
    ),
]


def typed(key: str) -> str:
    """The answer as it is typed: `true`, `my-service`, or a JSON string when bare is unclear."""
    value = CONTEXT[key]
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str) and key not in FLAGS and PLAIN.fullmatch(value):
        return value
    text = json.dumps(value, ensure_ascii=False)
    return re.sub("[\x7f-\x9f\u2028\u2029]", lambda m: f"\\u{ord(m.group()):04x}", text)


def problems() -> list[str]:
    """Return one message per wrong answer, in the order of the table."""
    refused: dict[str, str] = {}
    for check in CHECKS:
        if check.key not in refused and not check.rule(ANSWERS):
            refused[check.key] = f"ERROR: {check.key}={typed(check.key)}: {check.message}"
    return list(refused.values())


def main() -> int:
    found = problems()
    for message in found:
        print(message, file=sys.stderr)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
