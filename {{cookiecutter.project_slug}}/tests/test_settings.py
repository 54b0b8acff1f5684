"""Settings: read from the environment, refused with one clear line, secrets masked."""

import subprocess
import sys
from pathlib import Path

import pytest

from {{ cookiecutter.package_name }}.__main__ import load_settings
from {{ cookiecutter.package_name }}.settings import Settings


def test_environment_variables_are_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PORT", "9001")
    monkeypatch.setenv("LOG_FORMAT", "console")
    settings = Settings(_env_file=None)
    assert (settings.port, settings.log_format) == (9001, "console")


def test_bad_value_stops_with_one_line_naming_the_setting(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PORT", "eighty")
    with pytest.raises(SystemExit) as stopped:
        load_settings()
    message = str(stopped.value.code)
    assert message.startswith("error: setting PORT:")
    assert "eighty" in message
    assert "\n" not in message


def test_bad_value_exits_the_process_non_zero_without_traceback() -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "{{ cookiecutter.package_name }}",
            "serve",
        ],
        env={"LOG_FORMAT": "xml", "PATH": ""},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode != 0
    assert result.stderr.strip().startswith("error: setting LOG_FORMAT:")
    assert "Traceback" not in result.stderr


def test_every_setting_is_documented() -> None:
    root = Path(__file__).resolve().parent.parent
    readme = (root / "README.md").read_text(encoding="utf-8")
    example = (root / ".env.example").read_text(encoding="utf-8")
    for name in Settings.model_fields:
        assert f"| `{name.upper()}` |" in readme, name
        assert f"\n{name.upper()}=" in example, name
