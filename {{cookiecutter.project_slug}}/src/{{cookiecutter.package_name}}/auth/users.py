"""Users in the database: the statements of the users table, and what they refuse."""

from datetime import datetime
from typing import TypedDict, cast

from sqlalchemy import bindparam, insert, select, update

from ..db import ConstraintError, Database
from .tables import users


class User(TypedDict):
    """A user as stored."""

    id: int
    email: str
    password_hash: str
    active: bool
    created_at: datetime


class EmailTakenError(Exception):
    """Another user has this e-mail address."""

    def __init__(self, email: str) -> None:
        super().__init__(f"A user with the e-mail {email} already exists.")


def normalise(email: str) -> str:
    """The e-mail as stored and looked up: without surrounding spaces, lower-case."""
    return email.strip().lower()


_BY_EMAIL = select(users).where(users.c.email == bindparam("email"))
_BY_ID = select(users).where(users.c.id == bindparam("user_id"))
_ACTIVE = select(users.c.active).where(users.c.id == bindparam("user_id"))
_CREATE = insert(users).returning(*users.c)
_SET_HASH = (
    update(users)
    .where(users.c.id == bindparam("user_id"))
    .values(password_hash=bindparam("new"))
)


class UserStore:
    """The users of the service's database; each method is one statement."""

    def __init__(self, database: Database) -> None:
        self._database = database

    async def create(self, email: str, password_hash: str) -> User:
        """A new active user; EmailTakenError when the e-mail is taken, whatever its case."""
        email = normalise(email)
        try:
            row = await self._database.fetch_one(
                _CREATE, {"email": email, "password_hash": password_hash}
            )
        except ConstraintError:
            raise EmailTakenError(email) from None
        return cast(User, row)

    async def by_email(self, email: str) -> User | None:
        row = await self._database.fetch_one(_BY_EMAIL, {"email": normalise(email)})
        return cast(User | None, row)

    async def by_id(self, user_id: int) -> User | None:
        return cast(
            User | None, await self._database.fetch_one(_BY_ID, {"user_id": user_id})
        )

    async def is_active(self, user_id: int) -> bool:
        """Whether the user exists and is active: one read of one column."""
        return bool(await self._database.fetch_value(_ACTIVE, {"user_id": user_id}))

    async def set_password_hash(self, user_id: int, password_hash: str) -> None:
        await self._database.execute(
            _SET_HASH, {"user_id": user_id, "new": password_hash}
        )
