"""What the service imports comes from its declared dependencies, never from theirs."""

import ast
import re
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = "{{ cookiecutter.package_name }}"


def normalized(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def imported_modules() -> set[str]:
    """The top-level modules that the service's source imports, its own aside."""
    found: set[str] = set()
    for path in (ROOT / "src" / PACKAGE).rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                found.update(alias.name.partition(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                found.add(node.module.partition(".")[0])
    return found - set(sys.stdlib_module_names) - {PACKAGE}


def test_every_imported_package_is_a_declared_dependency() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))[
        "project"
    ]
    declared = {
        normalized(match[0])
        for requirement in project["dependencies"]
        if (match := re.match(r"[A-Za-z0-9._-]+", requirement))
    }
    distributions = packages_distributions()
    modules = imported_modules()
    assert {"aiohttp", "pydantic", "multidict"} <= modules
    for module in modules:
        providers = {normalized(name) for name in distributions.get(module, ())}
        assert providers & declared, (
            f"{module} (from {providers or 'nowhere'}) is not declared"
        )
