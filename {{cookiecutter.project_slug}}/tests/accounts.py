"""Users in the tests: the one every test client signs in as, and helpers of the auth tests."""

from contextlib import suppress
from typing import Any

from aiohttp import ClientResponse, web
from aiohttp.test_utils import TestClient
from sqlalchemy import update

from {{ cookiecutter.package_name }}.auth import auth_key
from {{ cookiecutter.package_name }}.auth.tables import users
from {{ cookiecutter.package_name }}.db import ConstraintError, Database, connect, database_key
from {{ cookiecutter.package_name }}.settings import Settings, settings_key

from .helpers import TEST_USER_ID, Client, assert_problem, auth_headers

TOKEN = "/api/v1/auth/token"
ME = "/api/v1/users/me"
EMAIL = "ada@example.com"
PASSWORD = "correct horse battery staple"

# The user of the tests' clients, with a hash that no password matches. The statement is made
# once, as the service's are: the data layer then finds its plan by identity.
_TEST_USER = {"id": TEST_USER_ID, "email": "tests@example.com", "password_hash": "!"}
_ADD_TEST_USER = users.insert()


async def add_test_user(database: Database) -> None:
    """Add the tests' user, unless it is there."""
    with suppress(ConstraintError):
        await database.execute(_ADD_TEST_USER, _TEST_USER)


async def add_test_user_to(settings: Settings) -> None:
    """Add the tests' user to the database of `settings`, outside of an app."""
    async with connect(settings) as database:
        await add_test_user(database)


class SignedInClient(TestClient[web.Request, web.Application]):
    """A test client sending the tests' user's bearer token, when its app has authentication.

    Every test client is one (conftest's `aiohttp_client_cls`): the tests of item writes need
    not log in.
    """

    async def start_server(self, **kwargs: Any) -> None:
        await super().start_server(**kwargs)
        app = self.app
        if app is None or auth_key not in app:
            return
        self.session.headers.update(auth_headers(app[settings_key]))
        # The session's database has the user from the start; a database of the test's own
        # gets it here, unless the test made it unusable on purpose.
        with suppress(Exception):
            await add_test_user(app[database_key])


async def add_user(client: Client, email: str = EMAIL, password: str = PASSWORD) -> int:
    """Make a user through the app's own store and hasher; return its id."""
    auth = client.app[auth_key]
    user = await auth.users.create(email, await auth.passwords.hash(password))
    return user["id"]


async def log_in(
    client: Client, username: str = EMAIL, password: str = PASSWORD
) -> Any:
    """The answer of the password grant to `username` and `password`."""
    form = {"grant_type": "password", "username": username, "password": password}
    return await client.post(TOKEN, data=form)


def bearer(token: str) -> dict[str, str]:
    """The Authorization header that sends `token`."""
    return {"Authorization": f"Bearer {token}"}


async def deactivate(client: Client, user_id: int) -> None:
    """Turn the user's active flag off, in the app's database."""
    deactivated = update(users).where(users.c.id == user_id).values(active=False)
    await client.app[database_key].execute(deactivated)


async def assert_invalid_token(response: ClientResponse) -> None:
    """Check that `response` is the 401 of a bearer token the service refused."""
    await assert_problem(response, 401)
    expected = 'Bearer realm="api", error="invalid_token"'
    assert response.headers["WWW-Authenticate"] == expected
