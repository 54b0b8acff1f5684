"""Swagger UI in a real browser, auth=jwt: Authorize logs in, then "Try it out" creates an item.

The OpenAPI document's OAuth2 scheme is checked field by field in the generated tests; this
checks that Swagger UI reads it as meant. Debian's Chromium (`/usr/bin/chromium`, which
.ci/run installs) driven by Playwright, offline; skipped without it locally, failed under CI.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import sync_playwright

from baking import bake
from running import make, project_environment, unavailable

pytestmark = pytest.mark.slow

CHROMIUM = Path("/usr/bin/chromium")
EMAIL, PASSWORD = "ada@example.com", "correct horse battery staple"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The base URL of a served auth=jwt bake (SQLite) with one user."""
    if not CHROMIUM.exists():
        unavailable(f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    project = bake(tmp_path_factory.mktemp("swagger"), {"auth": "jwt"}).project
    port = free_port()
    env = project_environment({})
    env.update(PORT=str(port), JWT_SECRET=os.urandom(32).hex(), LOG_FORMAT="json")
    make("migrate", project, env)
    python = project / ".venv" / "bin" / "python"
    made = subprocess.run(
        [python, "-m", "my_service", "create-user", EMAIL],
        input=f"{PASSWORD}\n",
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert made.returncode == 0, made.stdout + made.stderr
    log = (project / "service.log").open("wb")
    process = subprocess.Popen(
        [python, "-m", "my_service", "serve"], cwd=project, env=env, stdout=log, stderr=log
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                with urllib.request.urlopen(f"{base}/livez", timeout=1):
                    break
            except OSError:
                time.sleep(0.1)
        else:
            pytest.fail("the service did not answer /livez within 30 s")
        yield base
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()


def test_authorize_then_try_it_out_creates_an_item(service: str) -> None:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        try:
            page = browser.new_page()
            page.goto(f"{service}/docs")
            page.click("button.authorize")
            page.fill("input#oauth_username", EMAIL)
            page.fill("input#oauth_password", PASSWORD)
            page.click(".auth-btn-wrapper button.authorize")
            # Swagger UI offers Logout once the token endpoint has given it a token.
            page.wait_for_selector(".auth-btn-wrapper button:has-text('Logout')", timeout=15_000)
            page.click("button.btn-done")
            create = page.locator(".opblock-post").filter(has_text="/api/v1/items").first
            create.locator(".opblock-summary").click()
            create.locator("button.try-out__btn").click()
            body = json.dumps({"name": "made in Swagger UI", "description": "by a browser"})
            create.locator("textarea.body-param__text").fill(body)
            create.locator("button.execute").click()
            status = create.locator(".live-responses-table tbody .response-col_status").first
            status.wait_for(timeout=15_000)
            assert status.inner_text().strip() == "201"
        finally:
            browser.close()
    with urllib.request.urlopen(f"{service}/api/v1/items?limit=5", timeout=5) as response:
        names = [item["name"] for item in json.load(response)["items"]]
    assert names == ["made in Swagger UI"]
