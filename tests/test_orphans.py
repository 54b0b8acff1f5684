"""No orphans: a component that was not chosen leaves no trace in the generated project.

Removing its files (the manifest's job) is not enough: no dependency, import, setting,
README section, Makefile target or CI step of it may remain. Each row names words that only
that component would bring, and the bake without it must not contain them anywhere.
"""

from __future__ import annotations

import re
from typing import Any, NamedTuple

import pytest

from baking import Baked, files


class Absent(NamedTuple):
    id: str
    answers: dict[str, Any]
    words: tuple[str, ...]  # case-insensitive regular expressions


ABSENT = [
    Absent("no-metrics", {"use_metrics": False},
           ("prometheus", r"/metrics\b", "multiproc_dir")),
    Absent("no-redis", {"use_redis": False},
           ("redis", "cache_ttl", "cache_prefix", r"\bcached\b")),
    Absent("no-rate-limit", {"use_redis": False},
           ("rate.?limit", "trusted_proxies", "x-forwarded-for", r"\b429\b")),
    Absent("no-websocket", {"use_redis": True},
           ("websocket", r"\bfeed\b", "feed_", r"\b1013\b", r"\b426\b", "publishingitem",
            "item_events", "unbounded")),
    Absent("no-task-queue", {"task_queue": "none", "use_redis": True},
           (r"\barq\b", "enqueue", "item_created", "jobqueue", r"\bjobs\.py", r"worker\.py",
            "make worker", "worker --check", "job_timeout", "max_jobs", "job_result_ttl",
            "background job")),
    Absent("no-tracing", {"use_redis": True},
           ("opentelemetry", r"\botel", "otlp", "tracing", "tracer", "traceparent", "trace_id",
            "span_id", r"\bspans?\b", "record_exception")),
    Absent("tracing-no-redis", {"use_tracing": True}, ("redis",)),
    Absent("tracing-no-database", {"use_tracing": True, "database": "none"},
           ("sqlalchemy", "database_key", "database quer")),
    Absent("no-sentry", {}, ("sentry",)),
    Absent("no-database", {"database": "none"},
           ("sqlalchemy", "alembic", "database_url", "migrat", "aiosqlite", "asyncpg", "sqlite",
            "postgres", "sessionmaker")),
    Absent("sqlite-only", {"database": "sqlite"}, ("asyncpg", "postgres")),
    Absent("postgresql-only", {"database": "postgresql"}, ("aiosqlite", r"\.sqlite3", r"\bwal\b")),
    Absent("no-docker", {"use_docker": False},
           ("dockerfile", "docker", r"compose\.yaml", r"\bhealthcheck:", "healthcheck --")),
    Absent("no-kubernetes", {"use_kubernetes": False}, ("kubernetes", "k8s", "kubectl")),
    Absent("no-ci", {"ci": "none"}, (r"\.github", "github actions", "gitlab")),
    Absent("github-only", {"ci": "github"}, ("gitlab",)),
    Absent("no-precommit", {"use_precommit": False}, ("pre-commit",)),
]  # fmt: skip


@pytest.fixture(params=ABSENT, ids=[row.id for row in ABSENT])
def row(request: pytest.FixtureRequest) -> Absent:
    return request.param


@pytest.fixture
def combination(row: Absent) -> dict[str, Any]:
    return row.answers


def test_a_component_not_chosen_leaves_no_trace(row: Absent, baked: Baked) -> None:
    patterns = {word: re.compile(word, re.IGNORECASE) for word in row.words}
    hits = []
    for path in files(baked.project):
        text = path.read_text(encoding="utf-8", errors="replace")
        for number, line in enumerate(text.splitlines(), 1):
            hits.extend(
                f"{path.relative_to(baked.project)}:{number}: {word!r} in {line.strip()!r}"
                for word, pattern in patterns.items()
                if pattern.search(line)
            )
    assert not hits, "\n".join(hits)
