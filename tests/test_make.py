"""A project's Makefile: `make help` lists every target, each documented and phony; `make dev`
serves with console logs and restarts on a change.
"""

from __future__ import annotations

import re

from baking import Baked, run

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
