"""Valid but awkward free text bakes into valid TOML and Python, byte for byte, and stays data.

Values that contain Jinja (`{{ x }}`) are rendered by cookiecutter itself before the template
sees them, so brace-looking text here is text Jinja leaves alone.
"""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any, NamedTuple

import pytest

from baking import RUFF, TEMPLATE, Baked, bake, defaults, run


class Awkward(NamedTuple):
    id: str
    answers: dict[str, str]


CASES = [
    Awkward("double-quotes", {
        "project_name": 'The "Quoted" Service',
        "author_name": 'Ann "Nan" Smith',
        "description": 'Says "hello" and "bye"',
    }),
    Awkward("apostrophes", {
        "project_name": "Ann's Service",
        "author_name": "Seán O'Brien",
        "description": "It's the team's service, isn't it",
    }),
    Awkward("backslashes", {
        "project_name": r"Back\slash Service",
        "author_name": "Trailing Backslash\\",
        "description": r"C:\path\to\thing and \n is not a newline \\",
    }),
    Awkward("non-ascii", {
        "project_name": "Café Ünïcode",
        "author_name": "Zoë Ångström-Łukasz",
        "description": "Ünïcode — ça marche, 東京, Ωμέγα",
    }),
    Awkward("emoji", {
        "project_name": "Rocket 😀 Service",
        "author_name": "Emoji 😀 Person",
        "description": "Fast 😀 and fun 🚀",
    }),
    Awkward("braces", {
        "project_name": "Brace {x} Service",
        "author_name": "Curly }} Person",
        "description": "Looks templated: { {x} }, }}, %}, #} and {name}",
    }),
    Awkward("everything", {
        "project_name": "O'Hara \"Mixed\" Café 😀",
        "author_name": "D'Arcy \"Q\" Ünïcode \\",
        "description": "It's \"quoted\", back\\slashed, Ünïcode 😀 and {braced}\\",
    }),
]  # fmt: skip


@pytest.fixture(scope="module")
def baked_cases() -> dict[str, Baked]:
    """Each case baked once per module (and per xdist worker)."""
    return {}


@pytest.fixture
def baked(case: Awkward, baked_cases: dict[str, Baked], tmp_path_factory: Any) -> Baked:
    if case.id not in baked_cases:
        baked_cases[case.id] = bake(tmp_path_factory.mktemp(case.id), case.answers)
    return baked_cases[case.id]


def _answer(case: Awkward, key: str) -> str:
    return case.answers.get(key, defaults()[key])


def _title(baked: Baked) -> str:
    """The OpenAPI title the service reads from its package data."""
    about = baked.project / "src" / baked.package / "about.json"
    title: str = json.loads(about.read_text(encoding="utf-8"))["title"]
    return title


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_pyproject_keeps_the_text_exactly(case: Awkward, baked: Baked) -> None:
    pyproject = tomllib.loads((baked.project / "pyproject.toml").read_text(encoding="utf-8"))
    assert pyproject["project"]["description"] == _answer(case, "description")
    assert pyproject["project"]["authors"] == [
        {"name": _answer(case, "author_name"), "email": _answer(case, "author_email")}
    ]


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_openapi_title_keeps_the_text_exactly(case: Awkward, baked: Baked) -> None:
    assert _title(baked) == _answer(case, "project_name")


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_license_names_the_author(case: Awkward, baked: Baked) -> None:
    assert _answer(case, "author_name") in (baked.project / "LICENSE").read_text(encoding="utf-8")


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_awkward_text_keeps_the_project_lint_clean(case: Awkward, baked: Baked) -> None:
    check = run([RUFF, "check", "--no-cache", "."], cwd=baked.project)
    assert check.returncode == 0, check.stdout
    fmt = run([RUFF, "format", "--check", "--diff", "--no-cache", "."], cwd=baked.project)
    assert fmt.returncode == 0, fmt.stdout


def test_long_description_keeps_the_project_lint_clean(bake_fresh: Any) -> None:
    description = "A service that " + "does a great many useful things, " * 5 + "all day."
    baked = bake_fresh({"description": description})
    check = run([RUFF, "check", "--no-cache", "--select", "E501", "."], cwd=baked.project)
    assert check.returncode == 0, check.stdout


def _tree(root: Path, skip: set[str]) -> set[Path]:
    return {path for path in root.rglob("*") if not skip.intersection(path.relative_to(root).parts)}


def test_bake_writes_only_into_the_output_dir(tmp_path: Path) -> None:
    # Caches and the template's own venv/tests output are not the bake's doing.
    skip = {".venv", "__pycache__", ".pytest_cache", ".ruff_cache", "build"}
    template_before = _tree(TEMPLATE, skip)
    baked = bake(tmp_path / "base", CASES[-1].answers)
    assert baked.project.parent == tmp_path / "base" / "out"
    outside = _tree(tmp_path, set()) - _tree(tmp_path / "base" / "out", set())
    expected = {
        tmp_path / "base",
        tmp_path / "base" / "out",
        tmp_path / "base" / "cookiecutter-config.yaml",
        tmp_path / "base" / "replay",
        *(tmp_path / "base" / "replay").iterdir(),
    }
    assert outside == expected
    assert _tree(TEMPLATE, skip) == template_before


@pytest.mark.parametrize("field", ["project_name", "author_name", "description"])
def test_code_shaped_answers_are_never_run(
    field: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    origin = Path.cwd()
    monkeypatch.chdir(tmp_path)
    payload = '"); import os; os.system("touch PWNED"); ("'
    answers = {field: payload, "project_slug": "pwned-check"}
    baked = bake(tmp_path / "base", answers)
    assert not list(tmp_path.rglob("PWNED"))
    for place in (origin, TEMPLATE, TEMPLATE / "hooks"):
        assert not (place / "PWNED").exists(), place
    pyproject = tomllib.loads((baked.project / "pyproject.toml").read_text(encoding="utf-8"))
    if field == "description":
        assert pyproject["project"]["description"] == payload
    if field == "author_name":
        assert pyproject["project"]["authors"][0]["name"] == payload


@pytest.mark.parametrize(
    ("name", "slug"),
    [("Café Service", "cafe-service"), ("Ünïcode Ångström", "unicode-angstrom")],
)
def test_non_ascii_name_gets_an_ascii_slug(name: str, slug: str, bake_fresh: Any) -> None:
    baked = bake_fresh({"project_name": name})
    assert baked.project.name == slug
    assert baked.package == slug.replace("-", "_")
    assert (baked.project / "src" / baked.package / "__init__.py").is_file()
    assert _title(baked) == name
