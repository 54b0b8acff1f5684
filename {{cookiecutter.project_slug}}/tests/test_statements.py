"""SQLAlchemy Core statements through the data layer: types, defaults, plans, errors."""

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import pytest
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
    select,
    update,
)
from sqlalchemy import insert as insert_into
from sqlalchemy.schema import CreateTable, DropTable

from {{ cookiecutter.package_name }}.db import ConstraintError, Database
from {{ cookiecutter.package_name }}.models import UTCDateTime, items

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
async def kinds_table(database: Database) -> AsyncIterator[Table]:
    await database.execute(CreateTable(kinds))
    yield kinds
    await database.execute(DropTable(kinds))


async def add_items(database: Database, *names: str) -> list[int]:
    """Insert items by these names; return their ids."""
    add = insert_into(items).returning(items.c.id)
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
    created = await database.fetch_one(
        insert_into(kinds_table).returning(*kinds_table.c), values
    )
    assert created is not None
    assert created == {**values, "id": created["id"], "label": "unnamed"}
    read = await database.fetch_one(
        select(kinds_table).where(kinds_table.c.id == bindparam("id")),
        {"id": created["id"]},
    )
    assert read == created


async def test_a_time_in_another_zone_is_stored_and_read_back_in_utc(
    database: Database, kinds_table: Table
) -> None:
    noon_in_paris = datetime(2026, 6, 1, 14, 0, tzinfo=timezone(timedelta(hours=2)))
    row = await database.fetch_one(
        insert_into(kinds_table).returning(kinds_table.c.moment),
        {"moment": noon_in_paris},
    )
    assert row is not None
    assert row["moment"] == noon_in_paris
    assert row["moment"].utcoffset() == timedelta(0)


async def test_statements_built_per_call_read_their_own_values(
    database: Database,
) -> None:
    first, second = await add_items(database, "first", "second")
    # Same statement shape, other literal values: one compiled plan, each call its own values.
    for item_id, name in ((first, "first"), (second, "second"), (first, "first")):
        row = await database.fetch_one(
            select(items.c.name).where(items.c.id == item_id)
        )
        assert row == {"name": name}
    names = await database.fetch_all(
        select(items.c.name).where(items.c.id.in_([first, second])).order_by(items.c.id)
    )
    assert names == [{"name": "first"}, {"name": "second"}]


async def test_statements_built_per_call_convert_their_own_values(
    database: Database, kinds_table: Table
) -> None:
    # The second statement of a shape takes the first one's plan with its own literal values:
    # those too go through the column types' conversions (a time zone, JSON).
    for hour in (9, 10, 11):
        moment = datetime(2026, 12, 3, hour, tzinfo=timezone(timedelta(hours=1)))
        add = insert_into(kinds_table).values(moment=moment, doc={"hour": hour})
        row = await database.fetch_one(
            add.returning(kinds_table.c.moment, kinds_table.c.doc)
        )
        assert row == {"moment": moment, "doc": {"hour": hour}}
        assert row["moment"].utcoffset() == timedelta(0)


async def test_python_side_defaults_fill_what_a_write_leaves_out(
    database: Database,
) -> None:
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


async def test_no_row_is_none_and_execute_counts_the_rows_changed(
    database: Database,
) -> None:
    assert await database.fetch_one(select(items).where(items.c.id == -1)) is None
    assert (
        await database.fetch_value(select(items.c.name).where(items.c.id == -1)) is None
    )
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
