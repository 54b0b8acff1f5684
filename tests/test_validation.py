"""Invalid answers are refused with one clear line naming the key, and nothing is written."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, NamedTuple

import pytest
from cookiecutter.exceptions import FailedHookException
from cookiecutter.main import cookiecutter

from baking import (
    BIN,
    RUFF,
    TEMPLATE,
    assert_nothing_written,
    assert_refused,
    bake,
    refusals,
    run,
    write_config,
)

VALID_PACKAGE = {"package_name": "service_pkg"}  # keeps slug cases about the slug alone


class Invalid(NamedTuple):
    id: str
    answers: dict[str, Any]
    key: str
    value: str  # as the hook echoes it: as typed, or a JSON string when bare is unclear
    rule: str  # a fragment of the rule it breaks


INVALID = [
    Invalid("slug-uppercase", {"project_slug": "My-Service", **VALID_PACKAGE},
            "project_slug", "My-Service", "single hyphens"),
    Invalid("slug-leading-digit", {"project_slug": "1service", **VALID_PACKAGE},
            "project_slug", "1service", "start with a letter"),
    Invalid("slug-double-hyphen", {"project_slug": "my--service", **VALID_PACKAGE},
            "project_slug", "my--service", "single hyphens"),
    Invalid("slug-too-long", {"project_slug": "a" * 41, **VALID_PACKAGE},
            "project_slug", "a" * 41, "at most 40"),
    Invalid("slug-quote", {"project_slug": 'my"service', **VALID_PACKAGE},
            "project_slug", r'"my\"service"', "single hyphens"),
    Invalid("slug-empty", {"project_name": "!!!", **VALID_PACKAGE},
            "project_slug", '""', "start with a letter"),
    Invalid("project-name-blank", {"project_name": "   ", "project_slug": "my-service"},
            "project_name", '"   "', "must not be empty"),
    Invalid("package-keyword", {"package_name": "class"},
            "package_name", "class", "keyword"),
    Invalid("package-soft-keyword", {"package_name": "match"},
            "package_name", "match", "keyword"),
    Invalid("package-stdlib-json", {"package_name": "json"},
            "package_name", "json", "standard-library"),
    Invalid("package-stdlib-asyncio", {"package_name": "asyncio"},
            "package_name", "asyncio", "standard-library"),
    Invalid("package-private-stdlib", {"package_name": "_thread"},  # the first rule it breaks
            "package_name", "_thread", "identifier"),
    Invalid("package-too-long", {"package_name": "p" * 41},
            "package_name", "p" * 41, "at most 40"),
    Invalid("package-dependency", {"package_name": "aiohttp"},
            "package_name", "aiohttp", "dependency"),
    Invalid("package-not-identifier", {"package_name": "my.service"},
            "package_name", "my.service", "identifier"),
    Invalid("package-uppercase", {"package_name": "MyService"},
            "package_name", "MyService", "lower-case"),
    Invalid("email-no-at", {"author_email": "you.example.com"},
            "author_email", "you.example.com", "name@example.com"),
    Invalid("email-no-domain-dot", {"author_email": "you@example"},
            "author_email", "you@example", "name@example.com"),
    Invalid("version-semver-prerelease", {"version": "1.0.0-beta"},
            "version", "1.0.0-beta", "PEP 440"),
    Invalid("version-word", {"version": "abc"},
            "version", "abc", "PEP 440"),
    Invalid("description-newline", {"description": "two\nlines"},
            "description", r'"two\nlines"', "single line"),
    Invalid("kubernetes-without-docker", {"use_kubernetes": True, "use_docker": False},
            "use_kubernetes", "true", "needs use_docker"),
    Invalid("auth-without-database", {"auth": "jwt", "database": "none"},
            "auth", "jwt", "needs a database"),
]  # fmt: skip


@pytest.mark.parametrize("case", INVALID, ids=[case.id for case in INVALID])
def test_invalid_answer_is_refused(
    case: Invalid, tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(FailedHookException):
        bake(tmp_path, case.answers)
    assert_refused(capfd.readouterr().err, case.key, case.value, case.rule)
    assert_nothing_written(tmp_path / "out")


# Out-of-range choices and non-booleans never reach the hook: cookiecutter refuses them
# while reading the answers.
@pytest.mark.parametrize(
    ("key", "value"),
    [("python_version", "3.10"), ("python_version", "3.15"), ("use_metrics", "maybe")],
    ids=["python-3.10", "python-3.15", "boolean-maybe"],
)
def test_cookiecutter_refuses_before_the_hooks(key: str, value: str, tmp_path: Path) -> None:
    with pytest.raises(Exception) as refused:  # noqa: PT011 (cookiecutter raises ValueError today)
        bake(tmp_path, {key: value})
    assert key in str(refused.value)
    assert value in str(refused.value)
    assert_nothing_written(tmp_path / "out")


def test_non_boolean_from_a_replay_file_is_refused(
    bake_fresh: Any, tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    context = bake_fresh().context
    context["use_metrics"] = "maybe"  # a hand-edited replay file skips cookiecutter's check
    replay = tmp_path / "edited" / "template.json"
    replay.parent.mkdir()
    replay.write_text(json.dumps({"cookiecutter": context}), encoding="utf-8")
    with pytest.raises(FailedHookException):
        cookiecutter(
            str(TEMPLATE),
            replay=str(replay),
            output_dir=str(tmp_path / "out"),
            config_file=str(write_config(tmp_path)),
        )
    assert_refused(capfd.readouterr().err, "use_metrics", '"maybe"', "true or false")
    assert_nothing_written(tmp_path / "out")


# cookiecutter's own spellings of yes and no, in any case; it reads them as booleans before the
# hooks run, and the refusal echoes the boolean as it is typed on the command line.
SPELLINGS = [("true", "false"), ("TRUE", "False"), ("Yes", "No"), ("y", "N"), ("on", "OFF"),
             ("1", "0"), ("t", "f")]  # fmt: skip


@pytest.mark.parametrize(("yes", "no"), SPELLINGS, ids=[f"{yes}-{no}" for yes, no in SPELLINGS])
def test_yes_and_no_spellings_are_booleans(
    yes: str, no: str, tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(FailedHookException):
        bake(tmp_path, {"use_kubernetes": yes, "use_docker": no})
    assert_refused(capfd.readouterr().err, "use_kubernetes", "true", "needs use_docker=true")
    assert_nothing_written(tmp_path / "out")


def test_yes_and_no_spellings_bake(bake_fresh: Any) -> None:
    baked = bake_fresh({"use_metrics": "No", "use_redis": "YES"})
    assert baked.context["use_metrics"] is False
    assert baked.context["use_redis"] is True
    source = baked.project / "src" / baked.package
    assert not (source / "metrics.py").exists()
    assert (source / "cache.py").is_file()


@pytest.mark.parametrize("text", ["false", "true", "no", "yes"])
def test_yes_no_text_from_a_replay_file_is_refused(
    text: str, bake_fresh: Any, tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    # Text reaches the templates as it is, where even "false" reads as true.
    context = bake_fresh().context
    context["use_docker"] = text
    replay = tmp_path / "edited" / "template.json"
    replay.parent.mkdir()
    replay.write_text(json.dumps({"cookiecutter": context}), encoding="utf-8")
    with pytest.raises(FailedHookException):
        cookiecutter(
            str(TEMPLATE),
            replay=str(replay),
            output_dir=str(tmp_path / "out"),
            config_file=str(write_config(tmp_path)),
        )
    assert_refused(capfd.readouterr().err, "use_docker", f'"{text}"', "without quotes")
    assert_nothing_written(tmp_path / "out")


def test_every_broken_rule_is_reported_at_once(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    answers = {"package_name": "class", "author_email": "nobody", "version": "abc"}
    with pytest.raises(FailedHookException):
        bake(tmp_path, answers)
    reported = [(m["key"], m["value"]) for m in refusals(capfd.readouterr().err)]
    assert reported == list(answers.items())


@pytest.mark.parametrize("database", ["sqlite", "postgresql", "none"])
def test_longest_names_bake_lint_clean(bake_fresh: Any, database: str) -> None:
    slug = "a" * 19 + "-" + "b" * 20
    answers = {"project_slug": slug, "database": database, "task_queue": "arq"}
    answers |= {"use_tracing": "true", "use_sentry": "true"}
    baked = bake_fresh(answers)
    assert baked.project.name == slug
    assert baked.package == slug.replace("-", "_")
    check = run([RUFF, "check", "--no-cache", "."], cwd=baked.project)
    assert check.returncode == 0, check.stdout
    fmt = run([RUFF, "format", "--check", "--no-cache", "."], cwd=baked.project)
    assert fmt.returncode == 0, fmt.stdout


def test_cli_refuses_with_one_line_and_exit_status(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    result = run(
        [BIN / "cookiecutter", "--no-input", "--config-file", write_config(tmp_path),
         "-o", out, ".", "package_name=class"],
        cwd=TEMPLATE,
    )  # fmt: skip
    assert result.returncode != 0, result.stdout
    assert "ERROR: package_name=class: must not be a Python keyword" in result.stdout.splitlines()
    assert_nothing_written(out)
