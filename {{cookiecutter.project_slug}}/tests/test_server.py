"""The real server process: it serves, shares its port between workers, and stops on SIGTERM."""

import signal
import time
from pathlib import Path

import pytest

from {{ cookiecutter.package_name }}.settings import Settings

from .live import Load, environment_for, get, server


@pytest.fixture
def environment(tmp_path: Path, settings: Settings) -> dict[str, str]:
    """A server on a free loopback port, pointing at the test services."""
    return environment_for(tmp_path, settings)


def test_serves_and_exits_0_on_sigterm(
    environment: dict[str, str], tmp_path: Path
) -> None:
    with server(environment, tmp_path) as running:
        assert get(f"{running.base}/readyz")[0] == 200
        assert running.stop() == 0, running.logged()
    assert '"message":"stopped"' in running.logged()
    assert "Traceback" not in running.logged()


def test_workers_share_one_port_and_stop_together(
    environment: dict[str, str], tmp_path: Path
) -> None:
    with server({**environment, "WORKERS": "2"}, tmp_path) as running:
        for _ in range(40):
            assert get(f"{running.base}/livez")[0] == 200
{%- if cookiecutter.use_metrics %}
        # Every worker's samples are summed, whichever worker answers the scrape.
        metrics = get(f"{running.base}/metrics")[1]
        livez = 'http_requests_total{method="GET",route="/livez",status="200"}'
        counted = [line for line in metrics.splitlines() if line.startswith(livez)]
        assert counted, metrics
        assert float(counted[0].rsplit(" ", 1)[1]) >= 40
{%- endif %}
        assert running.stop() == 0, running.logged()
    assert running.logged().count('"message":"stopped"') == 2


def test_sigterm_under_load_fails_no_accepted_request(
    environment: dict[str, str], tmp_path: Path
) -> None:
    with (
        server(environment, tmp_path) as running,
        Load(int(environment["PORT"])) as load,
    ):
        time.sleep(1)
        running.process.send_signal(signal.SIGTERM)
        exit_code = running.process.wait(timeout=20)
    assert exit_code == 0, running.logged()
    assert load.failures == []
    assert load.served > 0
