"""The GitLab CI pipeline, read statically: stages, jobs with `extends` resolved, the Python
matrix, the uv cache, and the services the answers need.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

import pytest

from baking import Baked, combination_id, questions, supported, uses_redis
from deployfiles import read_yaml

GITLAB = supported(ci="gitlab")

GITLAB_KEYWORDS = {
    "after_script", "before_script", "cache", "default", "image", "include", "services",
    "spec", "stages", "variables", "workflow",
}  # fmt: skip


def _merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """GitLab's `extends`: mappings merge key by key, anything else is replaced."""
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def gitlab_jobs(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The jobs of a .gitlab-ci.yml with `extends` resolved and `default` applied."""

    def resolve(job: dict[str, Any]) -> dict[str, Any]:
        parents = job.get("extends", [])
        resolved: dict[str, Any] = document.get("default", {})
        for parent in [parents] if isinstance(parents, str) else parents:
            resolved = _merge(resolved, resolve(document[parent]))
        return _merge(resolved, {k: v for k, v in job.items() if k != "extends"})

    return {
        name: resolve(job)
        for name, job in document.items()
        if name not in GITLAB_KEYWORDS and not name.startswith(".")
    }


def _versions_from(minimum: str) -> list[str]:
    version = tuple(map(int, minimum.split(".")))
    return [v for v in questions()["python_version"] if tuple(map(int, v.split("."))) >= version]


@pytest.mark.parametrize("combination", GITLAB, ids=combination_id)
class TestGitLab:
    @staticmethod
    def jobs(baked: Baked) -> dict[str, dict[str, Any]]:
        return gitlab_jobs(read_yaml(baked.project / ".gitlab-ci.yml"))

    def test_lint_and_test_stages_run_make(self, baked: Baked) -> None:
        document = read_yaml(baked.project / ".gitlab-ci.yml")
        assert document["stages"] == ["lint", "test"]
        commands = {
            job["stage"]: "\n".join(job["script"]) for job in gitlab_jobs(document).values()
        }
        assert "make lint" in commands["lint"]
        assert "make test" in commands["test"]

    def test_jobs_install_make_and_uv_and_cache_uv(self, baked: Baked) -> None:
        document = read_yaml(baked.project / ".gitlab-ci.yml")
        cache_dir = document["variables"]["UV_CACHE_DIR"]
        for name, job in gitlab_jobs(document).items():
            setup = "\n".join(job["before_script"])
            assert re.search(r"apt-get install .*\bmake\b", setup), name
            assert re.search(r"pip install .*\buv\b", setup), name
            assert job["cache"]["key"]["files"] == ["pyproject.toml"], name
            assert job["cache"]["paths"] == [cache_dir], name

    def test_python_matrix_starts_at_python_version(
        self, baked: Baked, answers: dict[str, Any]
    ) -> None:
        for name, job in self.jobs(baked).items():
            (row,) = job["parallel"]["matrix"]
            assert row["PYTHON_VERSION"] == _versions_from(answers["python_version"]), name
            assert job["image"] in ("python:${PYTHON_VERSION}-slim", "python:$PYTHON_VERSION-slim")

    def test_services_follow_the_answers(self, baked: Baked, answers: dict[str, Any]) -> None:
        jobs = self.jobs(baked)
        hosts = {
            service["name"].partition(":")[0]: service.get("alias")
            for job in jobs.values()
            for service in job.get("services", [])
        }
        assert ("postgres" in hosts) == (answers["database"] == "postgresql"), hosts
        assert ("redis" in hosts) == uses_redis(answers), hosts
        urls = {"postgres": "TEST_DATABASE_URL", "redis": "TEST_REDIS_URL"}
        test_variables = jobs["test"].get("variables", {})
        for image, variable in urls.items():
            if image in hosts:
                host = urlsplit(test_variables[variable]).hostname
                assert host == (hosts[image] or image), (variable, host)
