"""The bench's user (auth=jwt): made in each database of the run, logged in for a token."""

import json
import os
import secrets
import subprocess
import sys
import urllib.parse
import urllib.request

from datastores import PACKAGE
from servers import PROJECT, Server

# The user the bench logs in as, made in each of its databases; a key signing its tokens.
EMAIL, PASSWORD = "bench@example.com", secrets.token_hex(16)
JWT_SECRET = secrets.token_hex(32)
LOGIN = urllib.parse.urlencode(
    {"grant_type": "password", "username": EMAIL, "password": PASSWORD}
)
FORM = "application/x-www-form-urlencoded"


def sign_up(env: dict[str, str]) -> None:
    """Make the bench's user in the database named in `env`."""
    subprocess.run(
        [sys.executable, "-m", PACKAGE, "create-user", EMAIL],
        cwd=PROJECT,
        env={**os.environ, **env},
        input=PASSWORD.encode(),
        check=True,
        capture_output=True,
    )


def bearer(server: Server) -> dict[str, str]:
    """The Authorization header of the bench's user on `server`, from its token endpoint."""
    request = urllib.request.Request(
        server.url("/api/v1/auth/token"),
        data=LOGIN.encode(),
        headers={"Content-Type": FORM},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return {"Authorization": f"Bearer {json.load(response)['access_token']}"}
