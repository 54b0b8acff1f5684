"""The generated project's own checks pass: `make lint` and `make test` in a fresh bake (slow).

Each bake (one per combination and xdist worker) makes its own virtual environment; uv's
shared cache keeps that quick. Bakes that need PostgreSQL or Redis test against
TEST_DATABASE_URL / TEST_REDIS_URL: skipped when unreachable, failed if CI=true. A bake for a
newer Python runs with that interpreter from pyenv when the machine has it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from baking import bake, combination_id, uses_redis
from running import make, project_environment, require

pytestmark = pytest.mark.slow

# Representative combinations, fully installed, type-checked and tested.
COMBINATIONS: list[dict[str, Any]] = [
    {},  # sqlite, metrics, docker, github, pre-commit, MIT, Python 3.11
    {"database": "postgresql", "use_kubernetes": True, "task_queue": "arq",
     "use_websocket": True, "auth": "jwt"},
    {"ci": "gitlab", "use_tracing": True, "use_sentry": True, "auth": "jwt"},
    {"database": "postgresql", "use_redis": True, "auth": "jwt"},
    {"database": "none", "use_redis": True, "use_metrics": False, "use_docker": False},
    {"database": "postgresql", "python_version": "3.13", "license": "Apache-2.0"},
    # The smallest service: no database, no Redis, nothing optional.
    {"database": "none", "ci": "none", "use_precommit": False, "license": "Proprietary"},
]  # fmt: skip


@pytest.fixture(scope="module", params=COMBINATIONS, ids=combination_id)
def generated(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, dict[str, str], dict[str, Any]]:
    answers = request.param
    project = bake(tmp_path_factory.mktemp("generated"), answers).project
    return project, project_environment(answers), answers


def test_make_lint(generated: tuple[Path, dict[str, str], dict[str, Any]]) -> None:
    project, env, _ = generated
    make("lint", project, env)


def test_make_test(generated: tuple[Path, dict[str, str], dict[str, Any]]) -> None:
    project, env, answers = generated
    if answers.get("database") == "postgresql":
        require("PostgreSQL", env["TEST_DATABASE_URL"], 5432)
    if uses_redis(answers):
        require("Redis", env["TEST_REDIS_URL"], 6379)
    make("test", project, env)
