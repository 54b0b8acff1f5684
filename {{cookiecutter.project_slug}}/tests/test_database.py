"""The data layer against the real database: statements, types, transactions, turns, timeouts."""

import asyncio
{%- if cookiecutter.database == "postgresql" %}
import time
{%- endif %}
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from pytest_aiohttp import AiohttpClient
from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Date,
    Float,
    Integer,
    LargeBinary,
    MetaData,
    Numeric,
    String,
    Table,
    Text,
    Uuid,
    bindparam,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.schema import CreateTable, DropTable

from {{ cookiecutter.package_name }}.app import create_app
from {{ cookiecutter.package_name }}.db import (
    ConstraintError,
    Database,
{%- if cookiecutter.database == "postgresql" %}
    UnavailableError,
{%- endif %}
    connect,
    database_key,
)
from {{ cookiecutter.package_name }}.models import UTCDateTime, items
from {{ cookiecutter.package_name }}.settings import Settings

from .helpers import assert_problem

ITEMS = "/api/v1/items"
# A table of these tests only, with a column of each common type.
kinds = Table(
    f"kinds_{uuid.uuid4().hex[:8]}",
    MetaData(),
    Column("id", Integer, primary_key=True),
    Column("big", BigInteger),
    Column("text", Text),
    Column("flag", Boolean),
    Column("ratio", Float),
    Column("price", Numeric(10, 2)),
    Column("day", Date),
    Column("moment", UTCDateTime),
    Column("doc", JSON),
    Column("key", Uuid),
    Column("blob", LargeBinary),
    Column("label", String(20), default="unnamed"),
)


@pytest.fixture
async def database(settings: Settings) -> AsyncIterator[Database]:
    """The service's database, open, outside of an app; its items deleted afterwards."""
    opened = connect(settings)
    await opened.open()
    yield opened
    await opened.execute(items.delete())
    await opened.close()


@pytest.fixture
async def kinds_table(database: Database) -> AsyncIterator[Table]:
    await database.execute(CreateTable(kinds))
    yield kinds
    await database.execute(DropTable(kinds))


async def add_items(database: Database, *names: str) -> list[int]:
    """Insert items by these names; return their ids."""
    add = insert(items).returning(items.c.id)
    return [await database.fetch_value(add, {"name": name}) for name in names]


async def test_values_of_every_common_type_come_back_as_they_went_in(
    database: Database, kinds_table: Table
) -> None:
    values = {
        "big": 2**40,
        "text": "naïve ✓ 'quoted' \\ \"double\"",
        "flag": True,
        "ratio": 0.25,
        "price": Decimal("12.34"),
        "day": date(2026, 12, 3),
        "moment": datetime(2026, 12, 3, 9, 30, 1, 5, tzinfo=UTC),
        "doc": {"a": [1, 2, None], "b": "c"},
        "key": uuid.UUID("12345678-1234-5678-1234-567812345678"),
        "blob": b"\x00\x01\xff",
    }
    created = await database.fetch_one(insert(kinds_table).returning(*kinds_table.c), values)
    assert created is not None
    assert created == {**values, "id": created["id"], "label": "unnamed"}
    read = await database.fetch_one(
        select(kinds_table).where(kinds_table.c.id == bindparam("id")), {"id": created["id"]}
    )
    assert read == created


async def test_a_time_in_another_zone_is_stored_and_read_back_in_utc(
    database: Database, kinds_table: Table
) -> None:
    noon_in_paris = datetime(2026, 6, 1, 14, 0, tzinfo=timezone(timedelta(hours=2)))
    row = await database.fetch_one(
        insert(kinds_table).returning(kinds_table.c.moment), {"moment": noon_in_paris}
    )
    assert row is not None
    assert row["moment"] == noon_in_paris
    assert row["moment"].utcoffset() == timedelta(0)


async def test_statements_built_per_call_read_their_own_values(database: Database) -> None:
    first, second = await add_items(database, "first", "second")
    # Same statement shape, other literal values: one compiled plan, each call its own values.
    for item_id, name in ((first, "first"), (second, "second"), (first, "first")):
        row = await database.fetch_one(select(items.c.name).where(items.c.id == item_id))
        assert row == {"name": name}
    names = await database.fetch_all(
        select(items.c.name).where(items.c.id.in_([first, second])).order_by(items.c.id)
    )
    assert names == [{"name": "first"}, {"name": "second"}]


async def test_python_side_defaults_fill_what_a_write_leaves_out(database: Database) -> None:
    before = datetime.now(UTC)
    (item_id,) = await add_items(database, "defaults")
    created = await database.fetch_one(select(items).where(items.c.id == item_id))
    assert created is not None
    assert created["version"] == 1
    assert before <= created["created_at"] <= created["updated_at"] <= datetime.now(UTC)

    changed = await database.execute(
        update(items).where(items.c.id == item_id).values(description="changed")
    )
    assert changed == 1
    updated = await database.fetch_one(select(items).where(items.c.id == item_id))
    assert updated is not None
    assert updated["updated_at"] > created["updated_at"]
    assert updated["created_at"] == created["created_at"]


async def test_no_row_is_none_and_execute_counts_the_rows_changed(database: Database) -> None:
    assert await database.fetch_one(select(items).where(items.c.id == -1)) is None
    assert await database.fetch_value(select(items.c.name).where(items.c.id == -1)) is None
    await add_items(database, "a", "b", "c")
    assert await database.fetch_value(select(func.count()).select_from(items)) == 3
    assert await database.execute(update(items).values(description="all")) == 3


async def test_a_missing_parameter_is_named(database: Database) -> None:
    by_id = select(items).where(items.c.id == bindparam("item_id"))
    with pytest.raises(ValueError, match="item_id"):
        await database.fetch_one(by_id, {"other": 1})


async def test_a_refused_write_is_a_constraint_error(database: Database) -> None:
    await add_items(database, "unique")
    with pytest.raises(ConstraintError):
        await add_items(database, "unique")


async def test_a_transaction_commits_all_its_statements_or_none(database: Database) -> None:
    async with database.transaction() as transaction:
        await transaction.execute(insert(items), {"name": "one"})
        await transaction.execute(insert(items), {"name": "two"})
        # The transaction sees its own writes.
        assert await transaction.fetch_value(select(func.count()).select_from(items)) == 2

    async def add_three_then_one_again() -> None:
        async with database.transaction() as transaction:
            await transaction.execute(insert(items), {"name": "three"})
            await transaction.execute(insert(items), {"name": "one"})

    with pytest.raises(ConstraintError):
        await add_three_then_one_again()

    names = await database.fetch_all(select(items.c.name).order_by(items.c.id))
    assert names == [{"name": "one"}, {"name": "two"}]


async def test_a_cancelled_transaction_rolls_back_and_frees_the_database(
    database: Database,
) -> None:
    inside = asyncio.Event()

    async def stuck() -> None:
        async with database.transaction() as transaction:
            await transaction.execute(insert(items), {"name": "never"})
            inside.set()
            await asyncio.Event().wait()

    task = asyncio.create_task(stuck())
    await inside.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    async with asyncio.timeout(2):
        await add_items(database, "after")
    names = await database.fetch_all(select(items.c.name))
    assert names == [{"name": "after"}]


async def test_writes_take_their_turns_in_the_order_they_came(settings: Settings) -> None:
    database = connect(settings.model_copy(update={"db_pool_size": 1}))
    await database.open()
    order: list[str] = []

    async def write(name: str) -> None:
        await database.execute(insert(items), {"name": name})
        order.append(name)

    try:
        held = database.transaction()
        await held.__aenter__()
        waiting = []
        for name in ("a", "b", "c"):
            waiting.append(asyncio.create_task(write(name)))
            await asyncio.sleep(0.01)
        await held.__aexit__(None, None, None)
        # Comes as the turn is given back, before the others have run: it must not jump in.
        waiting.append(asyncio.create_task(write("late")))
        await asyncio.gather(*waiting)
    finally:
        await database.execute(items.delete())
        await database.close()
    assert order == ["a", "b", "c", "late"]


async def test_a_request_that_waits_longer_than_db_timeout_is_a_503(
    aiohttp_client: AiohttpClient, settings: Settings
) -> None:
    quick = settings.model_copy(update={"db_timeout": 0.2, "db_pool_size": 1})
    app = create_app(quick)
    client = await aiohttp_client(app)
    async with app[database_key].transaction():
        waiting = asyncio.create_task(client.post(ITEMS, json={"name": "waits"}))
        await asyncio.sleep(0.5)
    response = await waiting
    await assert_problem(response, 503)
    assert response.headers["Retry-After"] == "5"
    created = await client.post(ITEMS, json={"name": "waits"})
    assert created.status == 201
    assert (await client.delete(created.headers["Location"])).status == 204
{%- if cookiecutter.database == "postgresql" %}


async def test_a_statement_longer_than_db_statement_timeout_is_cancelled(
    settings: Settings,
) -> None:
    database = connect(settings.model_copy(update={"db_statement_timeout": 0.2}))
    await database.open()
    try:
        started = time.monotonic()
        with pytest.raises(UnavailableError, match="statement timeout"):
            await database.fetch_value(select(func.pg_sleep(5)))
        assert time.monotonic() - started < 2
        assert await database.fetch_value(select(func.count()).select_from(items)) == 0
    finally:
        await database.close()
{%- endif %}
