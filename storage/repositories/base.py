"""What every repository shares: its session, and an insert that ignores duplicates on
both engines."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping, Sequence
from typing import Any

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

# Statements compiled once per dialect and shape: SQL text and its parameters' order.
_PREPARED: dict[tuple[str, Hashable], tuple[str, tuple[str, ...], dict[str, Any]]] = {}


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
    sql, order, defaults = entry
    args = [params[name] if name in params else defaults[name] for name in order]
    driver: Any = (await connection.get_raw_connection()).driver_connection
    if dialect.name == "postgresql":
        return list(await driver.fetch(sql, *args))
    return list(await driver.execute_fetchall(sql, args))


class Repository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    @property
    def dialect(self) -> str:
        return self.session.get_bind().dialect.name

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
        return postgresql.insert(table) if self.dialect == "postgresql" else sqlite.insert(table)
