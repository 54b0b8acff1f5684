"""Password hashes with argon2, computed in a thread: never on the event loop.

A hash takes tens of milliseconds of CPU on purpose; on the loop it would stall every other
request for that long. An unknown e-mail is checked against a dummy hash, so that it takes as
long to refuse as a wrong password, and a hash made with older parameters is upgraded.
"""

import asyncio

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

MIN_LENGTH = 8
MAX_LENGTH = 1024


class Passwords:
    """Hash and check passwords in a thread, with the parameters of `hasher`."""

    def __init__(self, hasher: PasswordHasher | None = None) -> None:
        self.hasher = hasher or PasswordHasher()
        self._dummy: str | None = None

    async def hash(self, password: str) -> str:
        """The argon2 hash of `password`."""
        return await asyncio.to_thread(self.hasher.hash, password)

    async def verify(self, password_hash: str | None, password: str) -> bool:
        """Whether `password` matches; with no hash (an unknown user), False as slowly."""
        if password_hash is None:
            if self._dummy is None:
                self._dummy = await self.hash("a password no account has")
            password_hash = self._dummy
            password = password + "\0"  # the dummy never matches
        return await asyncio.to_thread(self._check, password_hash, password)

    def needs_rehash(self, password_hash: str) -> bool:
        """Whether the hash was made with other parameters than the current ones."""
        return self.hasher.check_needs_rehash(password_hash)

    def _check(self, password_hash: str, password: str) -> bool:
        try:
            return self.hasher.verify(password_hash, password)
        except (VerificationError, InvalidHashError):
            return False


def password_problem(password: str) -> str | None:
    """Why a new password is refused, or None when it will do."""
    if len(password) < MIN_LENGTH:
        return f"the password must have at least {MIN_LENGTH} characters"
    if len(password) > MAX_LENGTH:
        return f"the password must have at most {MAX_LENGTH} characters"
    return None
