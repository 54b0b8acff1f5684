"""PostgreSQL through asyncpg itself: prepared statements, one round trip a read.

Statements are compiled from SQLAlchemy Core once (statements.py) and prepared once per
connection by asyncpg's statement cache. At most DB_POOL_SIZE connections are open, made when
first needed; requests take turns at them first come, first served, so that under load no
request waits far longer than the others, and no new session is opened at steady load.

The connections are kept here, in a list, rather than in asyncpg's pool: its checkout and
return cost 30 µs of CPU more per statement (a task per return, a proxy and a timer per
checkout), measured at 65 against 33 µs for the same reads side by side, some 10 % of a
request. A connection goes back as it is: nothing this service does changes a session.

When the server drops connections (a restart, a failover, `pg_terminate_backend`), a closed one
is replaced when it is next taken. A read whose connection died under it is tried once more on
another; a write is not, since it may have been applied: it fails as UnavailableError.

A statement cancelled while it runs (its client hung up) keeps its connection: asyncpg asks the
server to cancel it, and a task of ours waits for that, checks the connection with a round trip
within DB_TIMEOUT, and only then gives it and its turn back (ending it if that fails). Ending
the connection at once made a new session per hang-up, and starting sessions is where a loaded
PostgreSQL's CPU went.
"""

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
from sqlalchemy import make_url
from sqlalchemy.dialects.postgresql.asyncpg import PGDialect_asyncpg

from .base import ConstraintError, Database, Queries, UnavailableError
from .statements import Plan, Row, Statements

log = logging.getLogger(__name__)

# The connection is gone; nothing of the statement was applied if it was a read.
_LOST = (
    asyncpg.ConnectionDoesNotExistError,
    asyncpg.InterfaceError,
    asyncpg.exceptions.InternalClientError,
    asyncpg.exceptions.AdminShutdownError,
    asyncpg.exceptions.CrashShutdownError,
    ConnectionError,
)
# The database cannot serve now: down, restarting, overloaded, or too slow (statement_timeout).
_UNAVAILABLE = (
    *_LOST,
    OSError,
    TimeoutError,
    asyncpg.PostgresConnectionError,
    asyncpg.exceptions.OperatorInterventionError,
    asyncpg.exceptions.InsufficientResourcesError,
)


def _count(status: str) -> int:
    """Rows changed, from a command status such as "UPDATE 3" or "INSERT 0 1"."""
    last = status.rpartition(" ")[2]
    return int(last) if last.isdigit() else -1


async def _call(
    connection: asyncpg.Connection, plan: Plan, sql: str, arguments: list[Any]
) -> tuple[list[Row], int]:
    """Run one statement on `connection`; asyncpg's errors become the data layer's."""
    try:
        if plan.returns_rows:
            records = await connection.fetch(sql, *arguments)
            names = list(records[0].keys()) if records else []
            return plan.rows(names, records), len(records)
        return [], _count(await connection.execute(sql, *arguments))
    except asyncpg.IntegrityConstraintViolationError as error:
        raise ConstraintError(str(error)) from error


class PostgresDatabase(Database):
    """Up to DB_POOL_SIZE asyncpg connections, taken in turns."""

    def __init__(
        self, url: str, size: int, timeout: float, statement_timeout: float
    ) -> None:
        self.statements = Statements(PGDialect_asyncpg())  # type: ignore[no-untyped-call]
        # asyncpg reads libpq's URLs: the same as SQLAlchemy's without "+asyncpg".
        dsn = make_url(url).set(drivername="postgresql")
        self._dsn = dsn.render_as_string(hide_password=False)
        self._timeout = timeout
        self._settings = {"statement_timeout": str(int(statement_timeout * 1000))}
        self._turns = asyncio.Semaphore(size)
        self._idle: list[asyncpg.Connection] = []
        self._recovering: set[asyncio.Task[None]] = set()
        self._closing = False

    async def open(self) -> None:
        # No connection is made here: a server that is down now makes requests fail with 503
        # until it is back, and does not stop the service from starting.
        self._closing = False

    async def close(self) -> None:
        self._closing = True
        recovering = list(self._recovering)
        for task in recovering:
            task.cancel()
        await asyncio.gather(*recovering, return_exceptions=True)
        idle, self._idle = self._idle, []
        for connection in idle:
            try:
                async with asyncio.timeout(self._timeout):
                    await connection.close()
            except (*_UNAVAILABLE, TimeoutError):
                connection.terminate()

    async def ping(self, within: float) -> None:
        async with asyncio.timeout(within), self._connection() as connection:
            await connection.fetchval("SELECT 1")

    async def _run(
        self, plan: Plan, sql: str, arguments: list[Any]
    ) -> tuple[list[Row], int]:
        async with self._connection() as connection:
            try:
                return await _call(connection, plan, sql, arguments)
            except _LOST as error:
                connection.terminate()
                if not plan.reads:
                    raise UnavailableError(f"PostgreSQL: {error!r}") from error
        # The read's connection died under it; the others may have too: once more, on a new one.
        async with self._connection(fresh=True) as connection:
            return await _call(connection, plan, sql, arguments)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Queries]:
        async with self._connection() as connection, connection.transaction():
            yield _Transaction(self, connection)

    @asynccontextmanager
    async def _connection(
        self, *, fresh: bool = False
    ) -> AsyncIterator[asyncpg.Connection]:
        """A connection (a new one if `fresh`) in this request's turn; failures as unavailable."""
        if self._turns.locked():
            try:
                async with asyncio.timeout(self._timeout):
                    await self._turns.acquire()
            except TimeoutError:
                raise UnavailableError(
                    f"waited {self._timeout:g} s for a connection"
                ) from None
        else:
            await self._turns.acquire()
        recovering = False
        try:
            connection = self._idle.pop() if self._idle and not fresh else None
            if connection is None or connection.is_closed():
                connection = await self._connect()
            try:
                yield connection
            except asyncio.CancelledError:
                # The turn goes with the connection to the task that waits for it to be free.
                recovering = self._usable(connection)
                if recovering:
                    task = asyncio.get_running_loop().create_task(
                        self._recover(connection)
                    )
                    self._recovering.add(task)
                    task.add_done_callback(self._recovering.discard)
                raise
            except _LOST as error:
                connection.terminate()
                raise UnavailableError(f"PostgreSQL: {error!r}") from error
            except _UNAVAILABLE as error:
                raise UnavailableError(f"PostgreSQL: {error!r}") from error
            finally:
                if not recovering:
                    self._put_back(connection)
        finally:
            if not recovering:
                self._turns.release()

    def _usable(self, connection: asyncpg.Connection) -> bool:
        return not (
            connection.is_closed() or connection.is_in_transaction() or self._closing
        )

    def _put_back(self, connection: asyncpg.Connection) -> None:
        if self._usable(connection):
            self._idle.append(connection)
        elif not connection.is_closed():
            connection.terminate()

    async def _recover(self, connection: asyncpg.Connection) -> None:
        """Keep a connection whose statement was cancelled, once it answers again."""
        try:
            # asyncpg waits for the cancellation to be done before it sends this.
            await connection.fetchval("SELECT 1", timeout=self._timeout)
        except asyncio.CancelledError:
            connection.terminate()
            raise
        except Exception:  # noqa: BLE001 - whatever went wrong, the connection is not kept
            connection.terminate()
        else:
            self._put_back(connection)
        finally:
            self._turns.release()

    async def _connect(self) -> asyncpg.Connection:
        try:
            connection: asyncpg.Connection = await asyncpg.connect(
                self._dsn, timeout=self._timeout, server_settings=self._settings
            )
            # SQLAlchemy's JSON type writes JSON text and leaves the reading to the driver.
            for kind in ("json", "jsonb"):
                await connection.set_type_codec(
                    kind,
                    encoder=str,
                    decoder=json.loads,
                    schema="pg_catalog",
                    format="text",
                )
        except _UNAVAILABLE as error:
            raise UnavailableError(f"PostgreSQL: {error!r}") from error
        return connection


class _Transaction(Queries):
    """The statements of one transaction, on the connection that holds it."""

    def __init__(self, database: Database, connection: asyncpg.Connection) -> None:
        self.statements = database.statements
        self.watcher = database.watcher
        self._connection = connection

    async def _run(
        self, plan: Plan, sql: str, arguments: list[Any]
    ) -> tuple[list[Row], int]:
        return await _call(self._connection, plan, sql, arguments)
