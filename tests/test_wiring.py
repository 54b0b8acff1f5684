"""Components register themselves: `{% if %}` stays in the few modules that wire them together.

The README names these modules; a new conditional elsewhere means a component reaching into
another's code instead of registering with the app (see "How the template works").
"""

from __future__ import annotations

import re
from pathlib import Path

from baking import PROJECT_TEMPLATE

CONDITIONAL = re.compile(r"\{%-?\s*(if|elif)\b")
PACKAGE = PROJECT_TEMPLATE / "src" / "{{cookiecutter.package_name}}"
TESTS = PROJECT_TEMPLATE / "tests"
BENCH = PROJECT_TEMPLATE / "bench"
# Besides app.py, settings.py and __main__.py, which wire every component; at most 4.
SOURCE_MODULES = {"db/__init__.py", "otel.py", "server.py"}
# Besides conftest.py and helpers.py, which provide the services' fixtures; at most 4.
TEST_MODULES = {"test_server.py", "test_tracing.py"}
# The bench's rows and its databases follow the options; its other modules do not.
BENCH_MODULES = {"run.py", "datastores.py"}


def branching(folder: Path, ignored: set[str]) -> set[str]:
    """The Python files under `folder` with a Jinja conditional, relative to it."""
    return {
        path.relative_to(folder).as_posix()
        for path in folder.rglob("*.py")
        if CONDITIONAL.search(path.read_text(encoding="utf-8"))
    } - ignored


def test_source_modules_branch_only_where_components_are_wired() -> None:
    found = branching(PACKAGE, {"app.py", "settings.py", "__main__.py"})
    assert found == SOURCE_MODULES
    assert len(SOURCE_MODULES) <= 4


def test_test_modules_branch_only_in_fixtures_and_the_allowed_few() -> None:
    found = branching(TESTS, {"conftest.py", "helpers.py"})
    assert found == TEST_MODULES
    assert len(TEST_MODULES) <= 4


def test_bench_modules_branch_only_where_its_rows_and_databases_are_chosen() -> None:
    assert branching(BENCH, set()) == BENCH_MODULES


IMPORTS_A_TEST = re.compile(r"^\s*(?:from\s+\.?test_\w*\s+import|import\s+test_)", re.MULTILINE)


def test_no_test_module_imports_another() -> None:
    """Shared helpers live in helper modules (baking.py, helpers.py, ...), not in tests."""
    folders = (Path(__file__).parent, TESTS)
    importing = [
        path.name
        for folder in folders
        for path in folder.glob("test_*.py")
        if IMPORTS_A_TEST.search(path.read_text(encoding="utf-8"))
    ]
    assert len(list(TESTS.glob("test_*.py"))) > 10
    assert not importing, f"test modules importing another: {importing}"
