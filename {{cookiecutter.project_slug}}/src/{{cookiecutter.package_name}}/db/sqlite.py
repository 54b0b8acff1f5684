"""SQLite: threads that each own one connection (threads.py); a statement is one hop each way.

The file is in WAL mode, so reads run beside a write. DB_POOL_SIZE reader threads take reads
from one queue, first come first served; every write goes to the one writer thread, in order,
as SQLite wants. SQLAlchemy's asyncio engine over aiosqlite made five hops per statement
(cursor, execute, fetch, close, rollback) plus its greenlet bridge: `make bench` measured the
item read at 0.07x the bare app's /livez that way, 0.49x this way. A transaction holds the
writer thread while its block runs.

DB_TIMEOUT bounds both waits a statement can meet: for a free thread (threads.py) and for a
lock held by another process (SQLite's busy timeout).
"""

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import partial
from pathlib import Path
from queue import SimpleQueue
from typing import Any

from sqlalchemy import make_url
from sqlalchemy.dialects.sqlite.pysqlite import SQLiteDialect_pysqlite

from .base import ConstraintError, Database, Queries, UnavailableError
from .statements import Plan, Row, Statements
from .threads import Connections, Job

_Connections = Connections[sqlite3.Connection]
# The jobs of one transaction, which the writer thread runs while it holds the transaction.
_Inbox = SimpleQueue[Job[sqlite3.Connection]]
# Result codes that say the database cannot serve now, not that the statement is wrong.
_UNAVAILABLE = frozenset(
    {
        sqlite3.SQLITE_BUSY,
        sqlite3.SQLITE_LOCKED,
        sqlite3.SQLITE_NOMEM,
        sqlite3.SQLITE_READONLY,
        sqlite3.SQLITE_INTERRUPT,
        sqlite3.SQLITE_IOERR,
        sqlite3.SQLITE_CORRUPT,
        sqlite3.SQLITE_FULL,
        sqlite3.SQLITE_CANTOPEN,
        sqlite3.SQLITE_PROTOCOL,
        sqlite3.SQLITE_NOTADB,
    }
)


def sqlite_path(database_url: str) -> str:
    """The file of a SQLite URL (`sqlite+aiosqlite:///var/db.sqlite3`: `var/db.sqlite3`)."""
    path = make_url(database_url).database
    if not path or path == ":memory:":
        raise ValueError(
            "DATABASE_URL must name a SQLite file: migrations run in another process"
        )
    return path


def make_folder(database_url: str) -> None:
    """Create the folder of a SQLite file, so that the first connection can create the file."""
    Path(sqlite_path(database_url)).parent.mkdir(parents=True, exist_ok=True)


class _Driver:
    """Connections to one SQLite file: the writer's, or a reader's (which cannot write)."""

    def __init__(self, path: str, timeout: float, *, writer: bool) -> None:
        self._path = path
        self._timeout = timeout
        self._writer = writer

    def connect(self) -> sqlite3.Connection:
        if self._writer:  # in the writer's thread: the first connection makes the file
            Path(self._path).parent.mkdir(parents=True, exist_ok=True)
        connection = sqlite3.connect(
            self._path,
            timeout=self._timeout,  # SQLite's busy timeout: how long to wait for a lock
            isolation_level=None,  # statements commit on their own; BEGIN starts a transaction
            check_same_thread=False,  # made in the thread that uses it, closed there too
            cached_statements=256,
        )
        pragmas = ["synchronous=NORMAL", "foreign_keys=ON"]
        pragmas.append("journal_mode=WAL" if self._writer else "query_only=ON")
        try:
            for pragma in pragmas:
                connection.execute(f"PRAGMA {pragma}")
        except (
            sqlite3.Error
        ):  # not a database, or no room: the next statement tries again
            connection.close()
            raise
        return connection

    def close(self, connection: sqlite3.Connection) -> None:
        connection.close()

    def translate(self, error: Exception) -> Exception:
        """sqlite3's errors as the data layer's, where one fits."""
        if isinstance(error, sqlite3.IntegrityError):
            return ConstraintError(str(error))
        # Errors raised by the sqlite3 module itself (a value it cannot bind) carry no code.
        code = getattr(error, "sqlite_errorcode", None)
        if code is not None and (code & 0xFF) in _UNAVAILABLE:
            return UnavailableError(f"SQLite: {error}")
        return error


def _execute(
    plan: Plan, sql: str, arguments: list[Any], connection: sqlite3.Connection
) -> Any:
    """Run one statement to its end: its rows, converted, and the count of rows it changed."""
    cursor = connection.execute(sql, arguments)
    try:
        records = cursor.fetchall()
        names = [column[0] for column in cursor.description or ()]
        return plan.rows(names, records), cursor.rowcount
    finally:
        cursor.close()


def _ping(connection: sqlite3.Connection) -> None:
    connection.execute("SELECT 1").fetchone()


def _begin(connection: sqlite3.Connection) -> None:
    # IMMEDIATE takes the write lock now: a transaction never fails later for want of it.
    connection.execute("BEGIN IMMEDIATE")


def _commit(connection: sqlite3.Connection) -> None:
    connection.execute("COMMIT")


def _rollback(connection: sqlite3.Connection) -> None:
    if connection.in_transaction:
        connection.execute("ROLLBACK")


def _hold(
    inbox: _Inbox,
    writer: _Connections,
    began: asyncio.Future[Any],
    connection: sqlite3.Connection,
) -> None:
    """Begin a transaction, then run the jobs of `inbox` until one commits or rolls back.

    The writer thread does nothing else meanwhile: the transaction has the write lock anyway.
    """
    _begin(connection)
    writer.answer(began, None, None)
    while True:
        job = inbox.get()
        ends = job.work is _commit or job.work is _rollback
        try:
            writer.answer(job.future, job.work(connection), None)
        except Exception as error:  # noqa: BLE001 - every error goes to the caller
            if ends:
                _rollback(connection)
            writer.answer(job.future, None, writer.driver.translate(error))
        if ends:
            return


class _Transaction(Queries):
    """The statements of one transaction, run by the writer thread that holds it."""

    def __init__(self, database: Database, inbox: _Inbox, writer: _Connections) -> None:
        self.statements = database.statements
        self.watcher = database.watcher
        self._inbox = inbox
        self._writer = writer

    async def _run(
        self, plan: Plan, sql: str, arguments: list[Any]
    ) -> tuple[list[Row], int]:
        result: tuple[list[Row], int] = await self._writer.run(
            partial(_execute, plan, sql, arguments), self._inbox
        )
        return result


class SQLiteDatabase(Database):
    """A SQLite file served by DB_POOL_SIZE reader threads and one writer thread."""

    def __init__(self, path: str, readers: int, timeout: float) -> None:
        self.statements = Statements(SQLiteDialect_pysqlite(paramstyle="qmark"))
        self._path = path
        self._readers_count = readers
        self._timeout = timeout
        self._readers: _Connections | None = None
        self._writer: _Connections | None = None

    async def open(self) -> None:
        # The writer first: it puts a new file in WAL mode before a reader opens it.
        path, timeout = self._path, self._timeout
        writer, reader = (
            _Driver(path, timeout, writer=True),
            _Driver(path, timeout, writer=False),
        )
        self._writer = _Connections("sqlite-writer", 1, writer, timeout)
        self._readers = _Connections(
            "sqlite-reader", self._readers_count, reader, timeout
        )

    async def close(self) -> None:
        for connections in (self._readers, self._writer):
            if connections is not None:
                await connections.close()

    async def ping(self, within: float) -> None:
        async with asyncio.timeout(within):
            await self._reader().run(_ping)

    async def _run(
        self, plan: Plan, sql: str, arguments: list[Any]
    ) -> tuple[list[Row], int]:
        connections = self._reader() if plan.reads else self._writer_connections()
        result: tuple[list[Row], int] = await connections.run(
            partial(_execute, plan, sql, arguments)
        )
        return result

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Queries]:
        writer = self._writer_connections()
        inbox: _Inbox = SimpleQueue()
        began: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        writer.run(partial(_hold, inbox, writer, began), future=began)
        ended = False
        try:
            await began
            yield _Transaction(self, inbox, writer)
            ended = True
            await writer.run(_commit, inbox)
        finally:
            if not ended:
                # Also when the transaction has not begun yet: the thread finds this first.
                inbox.put(Job(None, _rollback))

    def _reader(self) -> _Connections:
        if self._readers is None:
            raise RuntimeError("the database is not open")
        return self._readers

    def _writer_connections(self) -> _Connections:
        if self._writer is None:
            raise RuntimeError("the database is not open")
        return self._writer
