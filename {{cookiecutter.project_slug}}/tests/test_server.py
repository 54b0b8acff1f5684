"""The real server process: it serves, shares its port between workers, and stops on SIGTERM."""

import http.client
import signal
import threading
import time
from pathlib import Path
from typing import Self

import pytest

from {{ cookiecutter.package_name }}.settings import Settings

from .live import environment_for, get, server


@pytest.fixture
def environment(tmp_path: Path, settings: Settings) -> dict[str, str]:
    """A server on a free loopback port, pointing at the test services."""
    return environment_for(tmp_path, settings)


def test_serves_and_exits_0_on_sigterm(environment: dict[str, str], tmp_path: Path) -> None:
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


class Load:
    """Threads sending requests on new connections until stopped, counting the outcomes.

    A request is accepted once the server answers anything; refused or reset connections
    were never accepted. Failures are accepted requests answered 5xx or cut short.
    """

    def __init__(self, port: int, threads: int = 4) -> None:
        self.port = port
        self.served = 0
        self.not_accepted = 0
        self.failures: list[str] = []
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._threads = [threading.Thread(target=self._run) for _ in range(threads)]

    def __enter__(self) -> Self:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join()

    def _run(self) -> None:
        while not self._stop.is_set():
            connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
            try:
                connection.request("GET", "/api/v1/items", headers={"Connection": "close"})
            except OSError:
                connection.close()
                self._count(not_accepted=1)
                continue
            try:
                response = connection.getresponse()
                response.read()
            except ConnectionResetError:  # http.client.RemoteDisconnected is one too
                self._count(not_accepted=1)
            except (OSError, http.client.HTTPException) as exc:
                self._count(failure=f"cut short: {exc!r}")
            else:
                if response.status >= 500:
                    self._count(failure=f"answered {response.status}")
                else:
                    self._count(served=1)
            finally:
                connection.close()

    def _count(self, served: int = 0, not_accepted: int = 0, failure: str = "") -> None:
        with self._lock:
            self.served += served
            self.not_accepted += not_accepted
            if failure:
                self.failures.append(failure)


def test_sigterm_under_load_fails_no_accepted_request(
    environment: dict[str, str], tmp_path: Path
) -> None:
    with server(environment, tmp_path) as running, Load(int(environment["PORT"])) as load:
        time.sleep(1)
        running.process.send_signal(signal.SIGTERM)
        exit_code = running.process.wait(timeout=20)
    assert exit_code == 0, running.logged()
    assert load.failures == []
    assert load.served > 0
