"""SQLite: threads that each own one connection; a statement costs one hand-off each way.

The file is in WAL mode, so reads run beside a write. DB_POOL_SIZE reader threads take reads
from one queue, first come first served; every write goes to the one writer thread, in order,
as SQLite wants. A call puts its statement on a queue and is woken when the thread has the rows:
one hop each way. SQLAlchemy's asyncio engine over aiosqlite made five (cursor, execute, fetch,
close, rollback) plus the greenlet bridge; `make bench` measured the item read at 0.06x the
bare app that way and NNN now. A transaction holds the writer thread while its block runs.

DB_TIMEOUT bounds both waits a statement can meet: for its turn on a queue (measured when a
thread takes it) and for a lock held by another process (SQLite's busy timeout).
"""

import asyncio
import sqlite3
import threading
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from functools import partial
from queue import SimpleQueue
from typing import Any

from sqlalchemy.dialects.sqlite.pysqlite import SQLiteDialect_pysqlite

from .base import ConstraintError, Database, Queries, UnavailableError
from .statements import Plan, Row, Statements

Work = Callable[[sqlite3.Connection], Any]
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


def _translate(error: Exception) -> Exception:
    """sqlite3's errors as the data layer's, where one fits."""
    if isinstance(error, sqlite3.IntegrityError):
        return ConstraintError(str(error))
    if isinstance(error, sqlite3.Error) and (error.sqlite_errorcode & 0xFF) in _UNAVAILABLE:
        return UnavailableError(f"SQLite: {error}")
    return error


def _resolve(future: asyncio.Future[Any], result: Any) -> None:
    if not future.done():
        future.set_result(result)


def _reject(future: asyncio.Future[Any], error: BaseException) -> None:
    if not future.done():
        future.set_exception(error)


@dataclass(slots=True)
class _Job:
    """Work for a connection's thread, the future it answers, and when it was queued."""

    future: asyncio.Future[Any] | None
    work: Work
    queued: float = field(default_factory=time.monotonic)


class _Connections:
    """Threads sharing one queue of jobs, each thread with a connection of its own."""

    def __init__(
        self, name: str, count: int, connect: Callable[[], sqlite3.Connection], patience: float
    ) -> None:
        self.jobs: SimpleQueue[_Job | None] = SimpleQueue()
        self._connect = connect
        self._patience = patience
        self._loop = asyncio.get_running_loop()
        self._stopped: list[asyncio.Future[None]] = []
        for number in range(count):
            stopped = self._loop.create_future()
            self._stopped.append(stopped)
            thread = threading.Thread(
                target=self._serve, args=(stopped,), name=f"{name}-{number}", daemon=True
            )
            thread.start()

    def run(self, work: Work, queue: SimpleQueue[_Job] | None = None) -> asyncio.Future[Any]:
        """Queue `work` (on `queue`, a transaction's); the future has its result or error."""
        future = self._loop.create_future()
        (self.jobs if queue is None else queue).put(_Job(future, work))
        return future

    async def close(self) -> None:
        """Let the queued jobs finish, then close the connections."""
        for _ in self._stopped:
            self.jobs.put(None)
        await asyncio.gather(*self._stopped)

    def answer(self, future: asyncio.Future[Any] | None, result: Any, error: Any) -> None:
        """Pass a result or an error to a future of the loop, from any thread."""
        if future is None:
            return
        try:
            if error is None:
                self._loop.call_soon_threadsafe(_resolve, future, result)
            else:
                self._loop.call_soon_threadsafe(_reject, future, error)
        except RuntimeError:  # the loop has closed: nobody waits any more
            pass

    def _serve(self, stopped: asyncio.Future[None]) -> None:
        connection: sqlite3.Connection | None = None
        try:
            while (job := self.jobs.get()) is not None:
                if job.future is not None and job.future.cancelled():
                    continue
                if time.monotonic() - job.queued > self._patience:
                    waited = f"waited more than {self._patience:g} s for a connection"
                    self.answer(job.future, None, UnavailableError(waited))
                    continue
                try:
                    if connection is None:
                        connection = self._connect()
                    self.answer(job.future, job.work(connection), None)
                except Exception as error:  # noqa: BLE001 - every error goes to the caller
                    self.answer(job.future, None, _translate(error))
        finally:
            if connection is not None:
                connection.close()
            self.answer(stopped, None, None)


def _execute(plan: Plan, sql: str, arguments: list[Any], connection: sqlite3.Connection) -> Any:
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
    inbox: SimpleQueue[_Job],
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
            writer.answer(job.future, None, _translate(error))
        if ends:
            return


class _Transaction(Queries):
    """The statements of one transaction, run by the writer thread that holds it."""

    def __init__(self, database: Database, inbox: SimpleQueue[_Job], writer: _Connections) -> None:
        self.statements = database.statements
        self.watcher = database.watcher
        self._inbox = inbox
        self._writer = writer

    async def _run(self, plan: Plan, sql: str, arguments: list[Any]) -> tuple[list[Row], int]:
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

    def _connect(self, *, writer: bool) -> sqlite3.Connection:
        connection = sqlite3.connect(
            self._path,
            timeout=self._timeout,  # SQLite's busy timeout: how long to wait for a lock
            isolation_level=None,  # statements commit on their own; BEGIN starts a transaction
            check_same_thread=False,  # made in the thread that uses it, closed there too
            cached_statements=256,
        )
        pragmas = ["synchronous=NORMAL", "foreign_keys=ON"]
        pragmas.append("journal_mode=WAL" if writer else "query_only=ON")
        try:
            for pragma in pragmas:
                connection.execute(f"PRAGMA {pragma}")
        except sqlite3.Error:  # not a database, or no room: the next statement tries again
            connection.close()
            raise
        return connection

    async def open(self) -> None:
        # The writer first: it puts a new file in WAL mode before a reader opens it.
        writer, reader = partial(self._connect, writer=True), partial(self._connect, writer=False)
        self._writer = _Connections("sqlite-writer", 1, writer, self._timeout)
        self._readers = _Connections("sqlite-reader", self._readers_count, reader, self._timeout)

    async def close(self) -> None:
        for connections in (self._readers, self._writer):
            if connections is not None:
                await connections.close()

    async def ping(self, within: float) -> None:
        async with asyncio.timeout(within):
            await self._reader().run(_ping)

    async def _run(self, plan: Plan, sql: str, arguments: list[Any]) -> tuple[list[Row], int]:
        connections = self._reader() if plan.reads else self._writer_connections()
        result: tuple[list[Row], int] = await connections.run(
            partial(_execute, plan, sql, arguments)
        )
        return result

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Queries]:
        writer = self._writer_connections()
        inbox: SimpleQueue[_Job] = SimpleQueue()
        began: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        writer.jobs.put(_Job(began, partial(_hold, inbox, writer, began)))
        ended = False
        try:
            await began
            yield _Transaction(self, inbox, writer)
            ended = True
            await writer.run(_commit, inbox)
        finally:
            if not ended:
                # Also when the transaction has not begun yet: the thread finds this first.
                inbox.put(_Job(None, _rollback))

    def _reader(self) -> _Connections:
        if self._readers is None:
            raise RuntimeError("the database is not open")
        return self._readers

    def _writer_connections(self) -> _Connections:
        if self._writer is None:
            raise RuntimeError("the database is not open")
        return self._writer
