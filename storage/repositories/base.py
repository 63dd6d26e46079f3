"""What every repository shares: its session, and an insert that ignores duplicates on
both engines."""

from __future__ import annotations

import json
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from typing import Any, TypeVar, cast

from sqlalchemy import Table, any_, bindparam, func, inspect, literal_column, select
from sqlalchemy.dialects import sqlite
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

# Statements compiled once per dialect and shape: SQL text and its parameters' order.
# Searches of varied words make varied shapes: the least recently used are dropped.
PREPARED_KEPT = 256
_PREPARED: OrderedDict[tuple[str, Hashable], tuple[str, tuple[str, ...], dict[str, Any]]] = OrderedDict()


async def fetch_prepared(
    connection: AsyncConnection, key: Hashable, build: Callable[[], Any], params: Mapping[str, Any]
) -> list[Any]:
    """Rows of the statement `build()` returns, compiled once per `key` (which must name
    its shape: only the named bind parameters in `params` vary) and run by the driver
    itself. Building, caching-key and result processing of SQLAlchemy cost more than
    the database's work for a small indexed read, on every call."""
    dialect = connection.dialect
    entry = _PREPARED.get((dialect.name, key))
    if entry is None:
        compiled = build().compile(dialect=dialect)
        entry = (compiled.string, tuple(compiled.positiontup or ()), dict(compiled.params))
        _PREPARED[(dialect.name, key)] = entry
        if len(_PREPARED) > PREPARED_KEPT:
            _PREPARED.popitem(last=False)
    else:
        _PREPARED.move_to_end((dialect.name, key))
    sql, order, defaults = entry
    args = [params[name] if name in params else defaults[name] for name in order]
    driver: Any = (await connection.get_raw_connection()).driver_connection
    if dialect.name == "postgresql":
        return list(await driver.fetch(sql, *args))
    return list(await driver.execute_fetchall(sql, args))


M = TypeVar("M")
# Per dialect and model: attribute names and SQLAlchemy's conversions of its columns.
_LOADERS: dict[tuple[str, type], tuple[list[str], list[Callable[[Any], Any] | None]]] = {}


def _loader(dialect: Dialect, model: type) -> tuple[list[str], list[Callable[[Any], Any] | None]]:
    entry = _LOADERS.get((dialect.name, model))
    if entry is None:
        mapper: Any = inspect(model)
        columns = list(mapper.local_table.columns)
        names = [mapper.get_property_by_column(c).key for c in columns]
        processors = [c.type.dialect_impl(dialect).result_processor(dialect, None) for c in columns]
        entry = _LOADERS[(dialect.name, model)] = (names, processors)
    return entry


class Repository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    @property
    def dialect(self) -> str:
        return self.session.get_bind().dialect.name

    def _listed(self, column: Any, name: str, item_type: Any) -> Any:
        """`column IN :name`, the list being one parameter whatever its length (see
        `_list_param`), so the statement's text never changes: on PostgreSQL
        `= ANY(:array)` (one array sent, prepared once by asyncpg); on SQLite a JSON
        text read by json_each (instead of binding thousands of placeholders)."""
        if self.dialect == "postgresql":
            from sqlalchemy.dialects.postgresql import ARRAY

            return column == any_(bindparam(name, type_=ARRAY(item_type)))
        listed: Any = select(literal_column("value")).select_from(func.json_each(bindparam(name)))
        return column.in_(listed.scalar_subquery())

    def _list_param(self, values: Iterable[Any]) -> Any:
        items = list(values)
        return items if self.dialect == "postgresql" else json.dumps(items)

    async def snapshots(self, model: type[M], ids: Sequence[int]) -> dict[int, M]:
        """Rows of `model` by `id`, for display only: new objects outside the session
        (changing them saves nothing). Read by the driver with a statement prepared once
        and SQLAlchemy's own conversions of each column: a page of search results then
        costs a third of what the ORM's loading costs."""
        if not ids:
            return {}
        table = cast(Table, model.__table__)  # type: ignore[attr-defined]
        await self.session.flush()  # as the ORM's autoflush would: pending changes first
        connection = await self.session.connection()
        rows = await fetch_prepared(
            connection,
            ("snapshots", model),
            lambda: select(*table.columns).where(self._listed(table.c.id, "ids", table.c.id.type)),
            {"ids": self._list_param(ids)},
        )
        names, processors = _loader(connection.dialect, model)
        out: dict[int, M] = {}
        for row in rows:
            values = {
                name: (process(value) if process is not None else value)
                for name, process, value in zip(names, processors, row, strict=True)
            }
            obj = model(**values)
            out[values["id"]] = obj
        return out

    async def bulk_insert(
        self, table: Table, rows: Sequence[Mapping[str, Any]], conflict: Sequence[str] | None = None
    ) -> None:
        """Insert many rows fast. On PostgreSQL the driver's own executemany is used
        (SQLAlchemy's statement expansion costs more than the database work for tens of
        thousands of rows); with `conflict`, rows already present are skipped."""
        if not rows:
            return
        if self.dialect != "postgresql":
            if conflict:
                await self.insert_ignore(table, rows, conflict)
            else:
                await self.session.execute(table.insert(), list(rows))
            return
        columns = list(rows[0])
        connection = await self.session.connection()
        raw = await connection.get_raw_connection()
        driver = raw.driver_connection
        assert driver is not None
        records = [tuple(r[c] for c in columns) for r in rows]
        if not conflict:  # COPY: an order of magnitude faster than INSERTs
            await driver.copy_records_to_table(table.name, records=records, columns=columns)
            return
        names = ", ".join(f'"{c}"' for c in columns)
        values = ", ".join(f"${i}" for i in range(1, len(columns) + 1))
        sql = f'INSERT INTO "{table.name}" ({names}) VALUES ({values})'
        sql += " ON CONFLICT ({}) DO NOTHING".format(", ".join(f'"{c}"' for c in conflict))
        await driver.executemany(sql, records)

    async def insert_ignore(
        self, table: Table, rows: Sequence[Mapping[str, Any]], conflict: Sequence[str]
    ) -> int:
        """INSERT … ON CONFLICT DO NOTHING; returns how many rows were new."""
        if not rows:
            return 0
        stmt = self._insert(table).values(list(rows)).on_conflict_do_nothing(index_elements=list(conflict))
        result = await self.session.execute(stmt)
        return int(getattr(result, "rowcount", 0) or 0)

    async def insert_new(self, table: Table, rows: Sequence[Mapping[str, Any]], key: str) -> list[Any] | None:
        """INSERT … ON CONFLICT DO NOTHING RETURNING `key`: the keys of the rows that
        were new, in one statement. None when the database cannot return rows from an
        INSERT (SQLite before 3.35): nothing was written then, use `insert_ignore`."""
        if not self.session.get_bind().dialect.insert_returning:
            return None
        if not rows:
            return []
        stmt = (
            self._insert(table)
            .values(list(rows))
            .on_conflict_do_nothing(index_elements=[key])
            .returning(table.c[key])
        )
        result = await self.session.execute(stmt)
        return list(result.scalars())

    async def upsert(self, table: Table, row: Mapping[str, Any], key: str) -> None:
        """INSERT, or UPDATE the row with the same `key`, in one statement."""
        stmt = self._insert(table).values(dict(row))
        stmt = stmt.on_conflict_do_update(
            index_elements=[key], set_={k: v for k, v in row.items() if k != key}
        )
        await self.session.execute(stmt)

    def _insert(self, table: Table) -> Any:
        if self.dialect == "postgresql":
            from sqlalchemy.dialects.postgresql import insert

            return insert(table)
        return sqlite.insert(table)
