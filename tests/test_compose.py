"""compose.yaml, read statically: nothing is started (no Docker engine here).

The services have health checks and wait for what they need, follow the answers (PostgreSQL,
Redis, the worker), pass the optional settings from the shell and stop within the service's
shutdown timeout as `.env.example` sets it.
"""

from __future__ import annotations

from typing import Any

import pytest

from baking import Baked, combination_id, supported, uses_redis
from deployfiles import env_example, read_yaml, seconds

DOCKER = supported(use_docker=True)
DOCKER_QUEUE = supported(use_docker=True, task_queue="arq")


@pytest.mark.parametrize("combination", DOCKER, ids=combination_id)
def test_compose_services_have_health_checks(baked: Baked, answers: dict[str, Any]) -> None:
    services = read_yaml(baked.project / "compose.yaml")["services"]
    app = services["app"]
    assert app["healthcheck"]["test"], "the app service has no healthcheck"
    shutdown = float(env_example(baked)["SHUTDOWN_TIMEOUT"])
    assert seconds(app["stop_grace_period"]) > shutdown

    def using(image: str) -> list[str]:
        return [name for name, s in services.items() if str(s.get("image", "")).startswith(image)]

    postgres, redis = using("postgres"), using("redis")
    assert len(postgres) == (answers["database"] == "postgresql"), postgres
    assert len(redis) == uses_redis(answers), redis
    for name in postgres + redis:
        assert services[name]["healthcheck"]["test"], f"{name} has no healthcheck"
        waiting = {
            other: spec["depends_on"][name].get("condition")
            for other, spec in services.items()
            if name in spec.get("depends_on", {})
        }
        assert waiting, f"no service waits for {name}"
        assert set(waiting.values()) == {"service_healthy"}, waiting
    assert ("worker" in services) == (answers["task_queue"] == "arq")


@pytest.mark.parametrize("combination", DOCKER, ids=combination_id)
def test_compose_passes_reporting_and_tracing_settings_from_the_shell(
    baked: Baked, answers: dict[str, Any]
) -> None:
    environment = read_yaml(baked.project / "compose.yaml")["services"]["app"]["environment"]
    for name, option in (
        ("SENTRY_DSN", "use_sentry"),
        ("OTEL_EXPORTER_OTLP_ENDPOINT", "use_tracing"),
    ):
        assert (name in environment) == answers[option], name
        if answers[option]:
            assert environment[name] == f"${{{name}:-}}"


@pytest.mark.parametrize("combination", DOCKER_QUEUE, ids=combination_id)
def test_compose_worker_runs_the_jobs_and_is_checked(baked: Baked) -> None:
    services = read_yaml(baked.project / "compose.yaml")["services"]
    worker = services["worker"]
    command = ["python", "-m", baked.package, "worker"]
    assert worker["command"] == command
    # The image's HEALTHCHECK asks the web server, which a worker does not run.
    assert worker["healthcheck"]["test"] == ["CMD", *command, "--check"]
    assert worker["depends_on"]["redis"]["condition"] == "service_healthy"
    assert worker["environment"]["REDIS_URL"] == services["app"]["environment"]["REDIS_URL"]
    assert "ports" not in worker
    shutdown = float(env_example(baked)["SHUTDOWN_TIMEOUT"])
    assert seconds(worker["stop_grace_period"]) > shutdown
