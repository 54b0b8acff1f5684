"""The seed rule, enforced: a handler that blocks the event loop fails the generated tests.

A baked project gets a blocking call planted in its /livez handler; its own test of /livez
must then fail, naming the call. Without the plant, the same test passes.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from baking import bake
from running import make, project_environment

pytestmark = pytest.mark.slow

LIVEZ = '''async def livez(_request: web.Request) -> web.Response:
    """200 while the event loop turns; touches nothing else."""
'''
PLANTS = {
    "time.sleep": "    time.sleep(0.001)\n",
    "io.BufferedReader.read": "    Path(__file__).read_bytes()\n",
}


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The default project, installed with its test tools."""
    baked = bake(tmp_path_factory.mktemp("blocking"))
    make("install-dev", baked.project, project_environment({}))
    return baked.project


def run_livez_test(project: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            ".venv/bin/pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "tests/test_health.py::test_livez_answers_ok",
        ],
        cwd=project,
        env=project_environment({}),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_the_untouched_handler_passes(project: Path) -> None:
    result = run_livez_test(project)
    assert result.returncode == 0, result.stdout[-3000:]


@pytest.mark.parametrize("call", list(PLANTS))
def test_a_planted_blocking_call_fails_the_tests_and_is_named(project: Path, call: str) -> None:
    health = next(project.glob("src/*/health.py"))
    original = health.read_text(encoding="utf-8")
    assert LIVEZ in original, "the /livez handler changed; update the plant"
    planted = "import time\nfrom pathlib import Path\n" + original.replace(
        LIVEZ, LIVEZ + PLANTS[call]
    )
    health.write_text(planted, encoding="utf-8")
    try:
        result = run_livez_test(project)
    finally:
        health.write_text(original, encoding="utf-8")
    assert result.returncode != 0, result.stdout[-3000:]
    assert f"Blocking call to {call}" in result.stdout, result.stdout[-3000:]
