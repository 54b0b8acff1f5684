"""Who a login names: the user whose e-mail and password match, active; else nobody.

Every refusal costs one password check, so that the time of an answer does not tell whether
the e-mail is known. A hash made with older parameters is replaced by one made with the current.
"""

from .passwords import Passwords
from .users import User, UserStore


async def authenticate(
    store: UserStore, passwords: Passwords, email: str, password: str
) -> User | None:
    """The active user with this e-mail and password, or None."""
    user = await store.by_email(email)
    if user is None:
        await passwords.verify(None, password)
        return None
    if (
        not await passwords.verify(user["password_hash"], password)
        or not user["active"]
    ):
        return None
    if passwords.needs_rehash(user["password_hash"]):
        new_hash = await passwords.hash(password)
        await store.set_password_hash(user["id"], new_hash)
        user = {**user, "password_hash": new_hash}
    return user
