"""The dependency bots follow the answers: Dependabot with `ci=github`, Renovate with
`ci=gitlab`; their files and the CI files validate against SchemaStore's schemas.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from baking import (
    BIN,
    SUPPORTED,
    TEMPLATE,
    Baked,
    combination_id,
    expected_answers,
    run,
    supported,
    uses_redis,
)

GITHUB = supported(ci="github")
GITLAB = supported(ci="gitlab")


@pytest.mark.parametrize("combination", GITHUB, ids=combination_id)
def test_dependabot_watches_python_actions_and_images(
    baked: Baked, combination: dict[str, Any]
) -> None:
    answers = expected_answers(combination)
    config = yaml.safe_load((baked.project / ".github" / "dependabot.yml").read_text("utf-8"))
    assert config["version"] == 2
    updates = {update["package-ecosystem"]: update for update in config["updates"]}
    expected = {"uv", "github-actions"}
    if answers["use_docker"] and (answers["database"] == "postgresql" or uses_redis(answers)):
        expected.add("docker-compose")
    assert set(updates) == expected
    for name, update in updates.items():
        assert update["directory"] == "/", name
        assert update["schedule"]["interval"] in ("daily", "weekly", "monthly"), name
    assert not (baked.project / "renovate.json").exists()


@pytest.mark.parametrize("combination", GITLAB, ids=combination_id)
def test_renovate_is_configured_for_gitlab(baked: Baked, combination: dict[str, Any]) -> None:
    config = json.loads((baked.project / "renovate.json").read_text(encoding="utf-8"))
    assert config["$schema"] == "https://docs.renovatebot.com/renovate-schema.json"
    assert "config:recommended" in config["extends"]
    assert config["lockFileMaintenance"]["enabled"] is True
    wants_hooks = expected_answers(combination)["use_precommit"]
    assert config.get("pre-commit", {}).get("enabled", False) is wants_hooks
    assert not (baked.project / ".github").exists()


# Files that GitHub, GitLab, Dependabot and Renovate read, against SchemaStore's schemas
# (shipped inside check-jsonschema: no network needed).
SCHEMAS = {
    ".github/workflows/ci.yml": "vendor.github-workflows",
    ".github/dependabot.yml": "vendor.dependabot",
    ".gitlab-ci.yml": "vendor.gitlab-ci",
    "renovate.json": "vendor.renovate",
}


def test_ci_and_bot_files_match_their_schemas(bake_shared: Any) -> None:
    found: dict[str, list[Path]] = {schema: [] for schema in SCHEMAS.values()}
    for answers in SUPPORTED:
        project = bake_shared(answers).project
        for name, schema in SCHEMAS.items():
            if (project / name).is_file():
                found[schema].append(project / name)
    for schema, paths in found.items():
        assert paths, f"no bake has a file for {schema}"
        command = [BIN / "check-jsonschema", "--builtin-schema", schema, *paths]
        result = run(command, cwd=TEMPLATE)
        assert result.returncode == 0, result.stdout
