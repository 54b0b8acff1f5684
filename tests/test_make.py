"""A project's Makefile: `make help` lists every target, each documented and phony; `make dev`
serves with console logs and restarts on a change; `make secret` writes one JWT_SECRET, once.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

from baking import Baked, bake, run

# A Makefile rule for a named target (not a file, not a variable assignment).
TARGET = re.compile(r"^([a-z0-9][a-z0-9-]*):(?![:=])", re.MULTILINE)


def test_make_help_lists_every_target_and_every_target_is_phony(baked: Baked) -> None:
    makefile = (baked.project / "Makefile").read_text(encoding="utf-8")
    targets = TARGET.findall(makefile)
    undocumented = [
        target
        for target in targets
        if not re.search(rf"^{re.escape(target)}:[^\n]*## \S", makefile, re.MULTILINE)
    ]
    assert not undocumented, f"targets without a `## description`: {undocumented}"
    phony = {
        name
        for line in makefile.splitlines()
        if line.startswith(".PHONY:")
        for name in line.split(":", 1)[1].split()
    }
    assert set(targets) <= phony, f"not in .PHONY: {set(targets) - phony}"
    assert phony <= set(targets), f".PHONY names what is not a target: {phony - set(targets)}"
    result = run(["make", "--no-print-directory", "-s", "help"], cwd=baked.project)
    assert result.returncode == 0, result.stdout
    listed = [line.split()[0] for line in result.stdout.splitlines() if line.strip()]
    assert listed == targets


def test_make_dev_serves_with_autoreload_and_console_logs(baked: Baked) -> None:
    makefile = (baked.project / "Makefile").read_text(encoding="utf-8")
    recipe = re.search(r"^dev:.*\n\t(?P<command>.+)", makefile, re.MULTILINE)
    assert recipe, "no dev target"
    assert "LOG_FORMAT=console" in recipe["command"]
    assert "watchfiles" in recipe["command"]
    assert f"-m {baked.package} serve" in recipe["command"]
    assert recipe["command"].rstrip().endswith(" src")
    pyproject = (baked.project / "pyproject.toml").read_text(encoding="utf-8")
    assert re.search(r'^    "watchfiles>=[\d.]+",$', pyproject, re.MULTILINE)


def test_make_secret_writes_one_random_jwt_secret_once(tmp_path: Path) -> None:
    project = bake(tmp_path, {"auth": "jwt"}).project
    env = {key: value for key, value in os.environ.items() if key != "JWT_SECRET"}
    # A .env copied from .env.example has an empty JWT_SECRET= line: it is replaced, not shadowed.
    shutil.copy(project / ".env.example", project / ".env")
    for _ in range(2):
        result = run(["make", "--no-print-directory", "-s", "secret"], cwd=project, env=env)
        assert result.returncode == 0, result.stdout
    lines = (project / ".env").read_text(encoding="utf-8").splitlines()
    secrets = [line for line in lines if line.startswith("JWT_SECRET=")]
    assert len(secrets) == 1, secrets
    assert re.fullmatch(r"JWT_SECRET=[0-9a-f]{64}", secrets[0])
    assert "ACCESS_TOKEN_TTL=900" in lines  # the rest of the file is kept
    # Set in the environment (production): nothing is written.
    (project / ".env").unlink()
    result = run(["make", "-s", "secret"], cwd=project, env={**env, "JWT_SECRET": "x" * 32})
    assert result.returncode == 0, result.stdout
    assert not (project / ".env").exists()
