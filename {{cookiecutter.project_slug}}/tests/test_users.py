"""`python -m <package> create-user EMAIL`: the password from stdin, every refusal one line."""

import getpass
import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select

from {{ cookiecutter.package_name }}.auth import cli
from {{ cookiecutter.package_name }}.auth.tables import users
from {{ cookiecutter.package_name }}.db import Database
from {{ cookiecutter.package_name }}.settings import Settings

PASSWORD = "correct horse battery staple"


def create_user(
    settings: Settings, cwd: Path, *args: str, stdin: str
) -> subprocess.CompletedProcess[str]:
    """Run the command as a user would, the password piped in (stdin is not a terminal)."""
    environment = {
        "PATH": os.environ.get("PATH", ""),
        "DATABASE_URL": settings.database_url.get_secret_value(),
    }
    return subprocess.run(
        [sys.executable, "-m", "{{ cookiecutter.package_name }}", "create-user", *args],
        env=environment,
        cwd=cwd,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


async def stored(database: Database, email: str) -> list[dict[str, object]]:
    return await database.fetch_all(select(users).where(users.c.email == email))


@pytest.mark.loop_may_block
async def test_a_user_is_made_with_an_argon2_hash(
    database: Database, settings: Settings, tmp_path: Path
) -> None:
    result = create_user(settings, tmp_path, "Ada@Example.com", stdin=PASSWORD + "\n")
    assert result.returncode == 0, result.stderr
    assert "ada@example.com" in result.stdout
    [user] = await stored(database, "ada@example.com")
    assert user["active"] is True
    assert str(user["password_hash"]).startswith("$argon2id$")
    assert PASSWORD not in result.stdout + result.stderr


@pytest.mark.loop_may_block
async def test_an_existing_e_mail_is_refused_whatever_its_case(
    database: Database, settings: Settings, tmp_path: Path
) -> None:
    assert (
        create_user(settings, tmp_path, "ada@example.com", stdin=PASSWORD).returncode
        == 0
    )
    again = create_user(settings, tmp_path, "ADA@example.com", stdin=PASSWORD)
    assert again.returncode == 1
    assert (
        again.stderr.strip()
        == "error: A user with the e-mail ada@example.com already exists."
    )
    assert len(await stored(database, "ada@example.com")) == 1


REFUSALS = {
    "empty password": (
        "ada@example.com",
        "",
        "the password must have at least 8 characters",
    ),
    "short password": (
        "ada@example.com",
        "short",
        "the password must have at least 8 characters",
    ),
    "bad e-mail": (
        "not an address",
        PASSWORD,
        "'not an address' is not an e-mail address",
    ),
}


@pytest.mark.loop_may_block
@pytest.mark.parametrize("case", REFUSALS.values(), ids=REFUSALS.keys())
async def test_bad_answers_are_refused_with_one_line(
    database: Database, settings: Settings, tmp_path: Path, case: tuple[str, str, str]
) -> None:
    email, password, message = case
    result = create_user(settings, tmp_path, email, stdin=password + "\n")
    assert result.returncode == 1
    assert result.stderr.strip() == f"error: {message}"
    assert await database.fetch_all(select(users).where(users.c.id != 0)) == []


def test_create_user_needs_an_e_mail(settings: Settings, tmp_path: Path) -> None:
    result = create_user(settings, tmp_path, stdin=PASSWORD)
    assert result.returncode == 2
    assert "create-user takes an e-mail" in result.stderr


class Terminal(io.StringIO):
    """Standard input that says it is a terminal, as a person's shell is."""

    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize(
    ("typed", "outcome"),
    [((PASSWORD, PASSWORD), PASSWORD), ((PASSWORD, PASSWORD + "!"), "do not match")],
    ids=["confirmed", "mismatch"],
)
def test_on_a_terminal_the_password_is_asked_twice(
    monkeypatch: pytest.MonkeyPatch, typed: tuple[str, str], outcome: str
) -> None:
    answers = iter(typed)
    prompts: list[str] = []

    def ask(prompt: str = "") -> str:
        prompts.append(prompt)
        return next(answers)

    monkeypatch.setattr(sys, "stdin", Terminal())
    monkeypatch.setattr(getpass, "getpass", ask)
    if outcome == PASSWORD:
        assert cli.read_password() == PASSWORD
    else:
        with pytest.raises(cli.RefusedError, match=outcome):
            cli.read_password()
    assert prompts == ["Password: ", "Password (again): "]
