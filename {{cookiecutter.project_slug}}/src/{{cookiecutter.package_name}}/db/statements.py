"""SQLAlchemy Core statements compiled once per dialect, and the values that go in and out.

A statement is compiled the first time it runs, then kept. One built once (at module level, with
`bindparam()` for what varies) is found again by identity, a dictionary look-up per call; one
built anew for each call is found by SQLAlchemy's own cache key, which costs a few microseconds
more. Values are converted as SQLAlchemy's engine would convert them: the bind and result
processors of the column types (time zones, SQLite's date strings, JSON) and the Python-side
column defaults (`default=`, `onupdate=`).
"""

from collections.abc import Callable, Iterable, Mapping, MutableMapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeAlias
from weakref import WeakKeyDictionary

from sqlalchemy import Column, Dialect, Executable
from sqlalchemy.sql.cache_key import CacheKey
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import BindParameter, ClauseElement
from sqlalchemy.types import Float, Numeric
from sqlalchemy.util import LRUCache

Row: TypeAlias = dict[str, Any]
Params: TypeAlias = Mapping[str, Any]
_Processor: TypeAlias = Callable[[Any], Any]
_Default: TypeAlias = Callable[["_DefaultContext"], Any]
_NO_PARAMS: Params = {}


class _DefaultContext:
    """What a context-sensitive column default may read: the other values of its row."""

    __slots__ = ("current_parameters",)

    def __init__(self, values: MutableMapping[str, Any]) -> None:
        self.current_parameters = values

    def get_current_parameters(
        self, *_args: object, **_kwargs: object
    ) -> MutableMapping[str, Any]:
        return self.current_parameters


def _constant(value: Any) -> _Default:
    return lambda _context: value


def _type_code(column_type: object) -> int | None:
    """The driver's code for a column's type, where SQLAlchemy's processors need one.

    Only numbers need it (a float or a numeric column); the plan is made before the driver
    describes any result, so the code is told by the column's type instead.
    """
    if isinstance(column_type, Float):
        return 701
    if isinstance(column_type, Numeric):
        return 1700
    return None


def _defaults(compiled: SQLCompiler) -> tuple[tuple[str, _Default], ...]:
    """The Python-side defaults to compute for each run: `default=` on INSERT, `onupdate=`."""
    found: list[tuple[str, _Default]] = []
    prefetched = (
        (compiled.insert_prefetch, "default"),
        (compiled.update_prefetch, "onupdate"),
    )
    for columns, attribute in prefetched:
        for column in columns:
            default = getattr(column, attribute)
            found.append(
                (
                    column.key,
                    _constant(default.arg) if default.is_scalar else default.arg,
                )
            )
    return tuple(found)


@dataclass(frozen=True, slots=True, eq=False)
class Plan:
    """A compiled statement: its SQL, how to make its arguments, how to read its rows."""

    sql: str
    reads: bool
    returns_rows: bool
    compiled: SQLCompiler | None
    binds: tuple[tuple[str, _Processor | None], ...]
    processors: Mapping[str, _Processor]
    constants: Mapping[str, Any]
    defaults: tuple[tuple[str, _Default], ...]
    results: tuple[_Processor | None, ...]
    simple: bool

    def arguments(
        self, params: Params, extracted: Sequence[BindParameter[Any]] | None = None
    ) -> tuple[str, list[Any]]:
        """The SQL and its positional arguments for these parameter values.

        `extracted` holds the literal values of a statement that shares this plan's cache key.
        """
        values: MutableMapping[str, Any]
        if self.simple and extracted is None:
            values = {**self.constants, **params} if params else dict(self.constants)
            for name, make in self.defaults:
                values[name] = make(_DefaultContext(values))
            try:
                return self.sql, [
                    value if process is None else process(value)
                    for name, process in self.binds
                    for value in (values[name],)
                ]
            except KeyError as missing:
                raise ValueError(f"no value for the bind parameter {missing}") from None
        assert self.compiled is not None, (
            "a statement without parameters takes the simple way"
        )
        values = self.compiled.construct_params(params, extracted_parameters=extracted)
        for name, make in self.defaults:
            values[name] = make(_DefaultContext(values))
        state = self.compiled.construct_expanded_state(values)
        # The expanded state holds the processors of expanded parameters (IN lists) only.
        processors = {**self.processors, **state.processors}
        names = state.positiontup or ()
        return state.statement, [
            processors[name](value) if name in processors else value
            for name, value in zip(names, state.positional_parameters, strict=True)
        ]

    def rows(self, names: Sequence[str], records: Iterable[Iterable[Any]]) -> list[Row]:
        """Records of the driver as rows: column name to value, converted by the column types."""
        found = [dict(zip(names, record, strict=True)) for record in records]
        if len(self.results) == len(names):
            pairs = zip(names, self.results, strict=True)
            converted = [
                (name, process) for name, process in pairs if process is not None
            ]
            for row in found:
                for name, process in converted:
                    row[name] = process(row[name])
        return found


class Statements:
    """The plans of the statements run on one dialect, made when first needed."""

    def __init__(self, dialect: Dialect, size: int = 500) -> None:
        self.dialect = dialect
        self._by_statement: WeakKeyDictionary[
            ClauseElement, dict[tuple[str, ...], Plan]
        ] = WeakKeyDictionary()
        self._by_key: LRUCache[Any, Plan] = LRUCache(size)

    def prepare(
        self, statement: Executable, params: Params | None
    ) -> tuple[Plan, str, list[Any]]:
        """The plan of `statement`, with the SQL and arguments for these parameter values."""
        assert isinstance(statement, ClauseElement)
        params = params or _NO_PARAMS
        # INSERT and UPDATE set the columns named by the parameters, as in SQLAlchemy.
        keys = tuple(params) if statement.is_dml else ()
        plans = self._by_statement.get(statement)
        if plans is not None and (plan := plans.get(keys)) is not None:
            return plan, *plan.arguments(params)
        cache_key = (
            statement._generate_cache_key()
        )  # what SQLAlchemy's own cache is keyed by
        if cache_key is None:
            plan = self._compile(statement, statement, keys, None)
            return plan, *plan.arguments(params)
        shared = (cache_key.key, keys)
        plan = self._by_key.get(shared)
        if plan is None:
            plan = self._by_key[shared] = self._compile(
                statement, statement, keys, cache_key
            )
            self._by_statement.setdefault(statement, {})[keys] = plan
            return plan, *plan.arguments(params)
        return plan, *plan.arguments(params, cache_key.bindparams)

    def _compile(
        self,
        statement: Executable,
        element: ClauseElement,
        keys: tuple[str, ...],
        cache_key: CacheKey | None,
    ) -> Plan:
        dialect = self.dialect
        options: dict[str, Any] = {}
        if (
            cache_key is not None
        ):  # so that other statements of this key can lend their values
            options["cache_key"] = cache_key
        if statement.is_dml:  # INSERT and UPDATE set the columns their parameters name
            options["column_keys"] = list(keys)
        compiled = element.compile(dialect=dialect, **options)
        if not isinstance(compiled, SQLCompiler):  # DDL: no parameters in, no rows out
            return Plan(
                sql=compiled.string,
                reads=False,
                returns_rows=False,
                compiled=None,
                binds=(),
                processors={},
                constants={},
                defaults=(),
                results=(),
                simple=True,
            )
        names = tuple(compiled.positiontup or ())
        binds = compiled.binds
        constants = {
            name: bind.effective_value
            for name, bind in binds.items()
            if not bind.required and bind.callable is None
        }
        simple = not (
            compiled.post_compile_params
            or compiled.literal_execute_params
            or compiled.escaped_bind_names
            or any(bind.callable is not None for bind in binds.values())
        )
        columns: Iterable[Column[Any]] = getattr(statement, "exported_columns", ())
        processors = tuple(
            (name, binds[name].type.dialect_impl(dialect).bind_processor(dialect))
            for name in names
        )
        return Plan(
            sql=compiled.string,
            reads=bool(statement.is_select),
            returns_rows=bool(
                statement.is_select or statement.is_text or compiled.effective_returning
            ),
            compiled=compiled,
            binds=processors,
            processors={
                name: process for name, process in processors if process is not None
            },
            constants=constants,
            defaults=_defaults(compiled),
            results=tuple(
                column.type.dialect_impl(dialect).result_processor(
                    dialect, _type_code(column.type)
                )
                for column in columns
            ),
            simple=simple,
        )
