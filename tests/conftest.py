"""Fixtures that bake the template: a private bake per call, or one shared bake per answer set,
by default one per supported combination.

Shared bakes are read-only for the tests that use them (ruff runs with --no-cache, bytecode goes
to a pycache prefix); they are made once per test run, even across pytest-xdist workers.
"""

from __future__ import annotations

import fcntl
import os
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from baking import SUPPORTED, Answers, Baked, bake, combination_id, expected_answers

Bake = Callable[..., Baked]


@pytest.fixture
def bake_fresh(tmp_path_factory: pytest.TempPathFactory) -> Bake:
    """Bake into a new temporary directory: `bake_fresh(answers, **cookiecutter_options)`."""

    def make(answers: Answers | None = None, **options: Any) -> Baked:
        return bake(tmp_path_factory.mktemp("bake"), answers, **options)

    return make


@contextmanager
def _exclusive(lock: Path) -> Iterator[None]:
    with lock.open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@pytest.fixture(scope="session")
def bake_shared(tmp_path_factory: pytest.TempPathFactory) -> Bake:
    """Bake these answers once per run and return the same project every time."""
    root = tmp_path_factory.getbasetemp()
    if "PYTEST_XDIST_WORKER" in os.environ:
        # Each worker has its own basetemp; their parent belongs to this run and is shared.
        root = root.parent
    root = root / "shared-bakes"
    root.mkdir(exist_ok=True)
    cache: dict[str, Baked] = {}

    def get(answers: Answers | None = None) -> Baked:
        key = combination_id(answers or {})
        if key not in cache:
            with _exclusive(root / f"{key}.lock"):
                record = root / f"{key}.json"
                if record.exists():
                    cache[key] = Baked.load(record)
                else:
                    shutil.rmtree(root / key, ignore_errors=True)  # a failed earlier attempt
                    cache[key] = bake(root / key, answers)
                    cache[key].save(record)
        return cache[key]

    return get


@pytest.fixture(params=SUPPORTED, ids=combination_id)
def combination(request: pytest.FixtureRequest) -> dict[str, Any]:
    """Every supported combination; a module narrows it with `parametrize` or its own fixture."""
    return request.param


@pytest.fixture
def answers(combination: dict[str, Any]) -> dict[str, Any]:
    """Every answer of the combination, the defaults included."""
    return expected_answers(combination)


@pytest.fixture
def baked(combination: dict[str, Any], bake_shared: Bake) -> Baked:
    """The shared bake of the module's `combination` fixture (its table of answers)."""
    return bake_shared(combination)
