"""What the rest of the service sees of the database: statements in, rows out, three errors.

Repositories write SQLAlchemy Core (`select`, `insert(...).returning(...)`) against the tables of
models.py and run it here; each call is one hand-off to the driver, whichever driver the
project was made with (db/__init__.py picks it).
"""

from abc import ABC, abstractmethod
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager, AbstractContextManager
from typing import Any, Self, TypeAlias

from sqlalchemy import Executable

from .statements import Params, Plan, Row, Statements

# Called with each statement's SQL around its run (to time it, log it, trace it); or None.
Watcher: TypeAlias = Callable[[str], AbstractContextManager[object]]


class DatabaseError(Exception):
    """A statement could not run."""


class UnavailableError(DatabaseError):
    """The database did not answer in time or cannot be reached; try again later.

    A write that fails this way may have been applied: the answer was lost, not the write.
    """


class ConstraintError(DatabaseError):
    """A constraint refused the write: a unique key, a foreign key, a NOT NULL column."""


class Queries(ABC):
    """Run statements and read their rows; a database and its transactions both do this."""

    statements: Statements
    watcher: Watcher | None = None

    async def fetch_all(
        self, statement: Executable, params: Params | None = None
    ) -> list[Row]:
        """Every row of the statement's result."""
        rows, _ = await self._traced(statement, params)
        return rows

    async def fetch_one(
        self, statement: Executable, params: Params | None = None
    ) -> Row | None:
        """The first row, or None when there is none."""
        rows, _ = await self._traced(statement, params)
        return rows[0] if rows else None

    async def fetch_value(
        self, statement: Executable, params: Params | None = None
    ) -> Any:
        """The first column of the first row, or None when there is no row."""
        rows, _ = await self._traced(statement, params)
        return next(iter(rows[0].values())) if rows else None

    async def execute(self, statement: Executable, params: Params | None = None) -> int:
        """Run a statement for its effect; return how many rows it changed."""
        _, count = await self._traced(statement, params)
        return count

    async def _traced(
        self, statement: Executable, params: Params | None
    ) -> tuple[list[Row], int]:
        plan, sql, arguments = self.statements.prepare(statement, params)
        if self.watcher is None:
            return await self._run(plan, sql, arguments)
        with self.watcher(sql):
            return await self._run(plan, sql, arguments)

    @abstractmethod
    async def _run(
        self, plan: Plan, sql: str, arguments: list[Any]
    ) -> tuple[list[Row], int]:
        """Run one statement: its rows, and the count of rows it changed."""


class Database(Queries):
    """The service's database: statements, transactions, a readiness probe, a life."""

    @abstractmethod
    def transaction(self) -> AbstractAsyncContextManager[Queries]:
        """Statements that commit together when the block ends, or not at all if it raises."""

    @abstractmethod
    async def open(self) -> None:
        """Get ready to run statements; never fails for a database that is down."""

    @abstractmethod
    async def close(self) -> None:
        """Let running statements finish, then close every connection."""

    async def __aenter__(self) -> Self:
        """`async with connect(settings) as database:` opens it, for a script or a test."""
        await self.open()
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.close()

    @abstractmethod
    async def ping(self, within: float) -> None:
        """Raise unless the database answers `SELECT 1` within `within` seconds."""
