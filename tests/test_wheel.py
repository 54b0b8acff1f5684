"""The wheel of a baked project carries what the service needs at run time, and no more (slow).

Built the way a user or CI would (`uv build`, or pip without uv), from the default bake.
"""

from __future__ import annotations

import shutil
import sys
import zipfile
from pathlib import Path

import pytest

from baking import bake, run

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> tuple[zipfile.ZipFile, str]:
    baked = bake(tmp_path_factory.mktemp("wheel"))
    out = tmp_path_factory.mktemp("dist")
    uv = shutil.which("uv")
    if uv is not None:
        command = [uv, "build", "--wheel", "--out-dir", str(out)]
    else:
        command = [sys.executable, "-m", "pip", "wheel", "--no-deps", "-w", str(out), "."]
    result = run(command, cwd=baked.project, timeout=300)
    assert result.returncode == 0, result.stdout
    (built,) = out.glob("*.whl")
    return zipfile.ZipFile(built), baked.package


def test_the_wheel_is_typed_as_it_claims(wheel: tuple[zipfile.ZipFile, str]) -> None:
    archive, package = wheel
    names = set(archive.namelist())
    metadata = next(name for name in names if name.endswith(".dist-info/METADATA"))
    assert "Classifier: Typing :: Typed" in archive.read(metadata).decode()
    assert f"{package}/py.typed" in names


def test_the_wheel_carries_migrations_and_data_but_no_tests(
    wheel: tuple[zipfile.ZipFile, str],
) -> None:
    archive, package = wheel
    names = set(archive.namelist())
    assert f"{package}/about.json" in names
    assert f"{package}/migrations/env.py" in names
    assert any(name.startswith(f"{package}/migrations/versions/") for name in names)
    assert not any(name.startswith("tests/") or "/tests/" in name for name in names)
    assert not any(Path(name).suffix == ".pyc" for name in names)
