"""`make bench` in a baked project starts the servers, loads them and prints figures (slow).

Short mode (`--quick`: one run of 2 s per target), once with the bundled Python load
generator and once with wrk when it is installed. What is checked is that every target got a
figure, with no failed request, and that nothing the bench started is left running; not the
figures' size, which depends on the machine.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest

from baking import bake
from running import make, project_environment

pytestmark = pytest.mark.slow

TIMEOUT = 300
# A row of the table: target, rps, p50 ms, p99 ms, errors, CPU us per request (nan where
# it cannot be read), ratio to bare ("1.00x").
ROW = re.compile(
    r"^(?P<target>\S.*?)\s{2,}(?P<rps>\d+)\s+(?P<p50>[\d.]+)\s+(?P<p99>[\d.]+)"
    r"\s+(?P<errors>\d+)\s+(?P<cpu>[\d.]+|nan)\s+(?P<ratio>[\d.]+)x$",
    re.MULTILINE,
)
TARGETS = {
    "bare /livez",
    "fastapi /livez",
    "service /livez",
    "service GET item",
    "service GET items?limit=20",
    "service POST item",
}
if (os.cpu_count() or 1) > 1:
    TARGETS |= {"service x2 /livez", "service x2 GET item"}


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The default project; `make bench` makes its environment with the bench extra."""
    return bake(tmp_path_factory.mktemp("bench")).project


def make_bench(project: Path, options: str) -> str:
    """Run `make bench BENCH_ARGS=<options>`; return its output, failing the test on error."""
    return make("bench", project, project_environment({}), f"BENCH_ARGS={options}", timeout=TIMEOUT)


def left_running(project: Path) -> list[str]:
    """Command lines of processes still running from the project's environment."""
    found = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            command = cmdline.read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if str(project) in command:
            found.append(command)
    return found


@pytest.mark.parametrize("loadgen", ["python", "wrk"])
def test_make_bench_takes_a_figure_of_every_target(project: Path, loadgen: str) -> None:
    if loadgen == "wrk" and shutil.which("wrk") is None:
        pytest.skip("wrk is not installed")
    output = make_bench(project, f"--quick --loadgen {loadgen}")
    rows = {row["target"]: row for row in ROW.finditer(output)}
    assert set(rows) == TARGETS, output
    for target, row in rows.items():
        assert float(row["rps"]) > 0, target
        assert float(row["p99"]) >= float(row["p50"]) > 0, target
        assert row["errors"] == "0", f"{target} had failed requests:\n{output}"
        if Path("/proc").is_dir():
            assert float(row["cpu"]) > 0, target
    assert rows["bare /livez"]["ratio"] == "1.00"
    assert re.search(r"memory of the service \(one worker, RSS\): [\d.]+ MB idle", output)
    generator = "wrk -t1" if loadgen == "wrk" else "bench/load.py"
    assert f"{generator}, 64 connections" in output
    if Path("/proc").is_dir():
        assert not left_running(project), "the bench left processes running"
