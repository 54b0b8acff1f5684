"""`python -m <package> create-user EMAIL`: a user, with a password from a prompt or stdin.

On a terminal the password is asked twice, unseen; otherwise the first line of stdin is read,
so that scripts can pipe it. Every refusal is one line on stderr and a non-zero exit.
"""

import asyncio
import getpass
import sys

from argon2 import PasswordHasher

from ..db import DatabaseError, connect
from ..settings import Settings
from .passwords import password_problem
from .users import EmailTakenError, UserStore, normalise
from .views import MAX_EMAIL


class RefusedError(Exception):
    """The user cannot be created as asked; the message says why."""


def read_password() -> str:
    """The new password: typed twice on a terminal, else the first line of stdin."""
    if not sys.stdin.isatty():
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = getpass.getpass("Password: ")
        if getpass.getpass("Password (again): ") != password:
            raise RefusedError("the passwords do not match")
    if (problem := password_problem(password)) is not None:
        raise RefusedError(problem)
    return password


def check_email(email: str) -> str:
    """The e-mail as stored; RefusedError when it cannot be one."""
    email = normalise(email)
    local, at, domain = email.partition("@")
    if not (local and at and "." in domain) or len(email) > MAX_EMAIL or " " in email:
        raise RefusedError(f"{email!r} is not an e-mail address")
    return email


async def _insert(settings: Settings, email: str, password_hash: str) -> int:
    async with connect(settings) as database:
        user = await UserStore(database).create(email, password_hash)
    return user["id"]


def create_user(settings: Settings, email: str) -> int:
    """Create the user; print its id. Return the exit code."""
    try:
        email = check_email(email)
        password = read_password()
        user_id = asyncio.run(_insert(settings, email, PasswordHasher().hash(password)))
    except (RefusedError, EmailTakenError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except DatabaseError as exc:
        print(
            f"error: the database refused the user ({exc}); is it migrated?",
            file=sys.stderr,
        )
        return 1
    print(f"created user {user_id} <{email}>")
    return 0
