"""What every repository shares: its session, and an insert that ignores duplicates on
both engines."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession


class Repository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    @property
    def dialect(self) -> str:
        return self.session.get_bind().dialect.name

    async def insert_ignore(
        self, table: Table, rows: Sequence[Mapping[str, Any]], conflict: Sequence[str]
    ) -> int:
        """INSERT … ON CONFLICT DO NOTHING; returns how many rows were new."""
        if not rows:
            return 0
        dialect_insert = postgresql.insert if self.dialect == "postgresql" else sqlite.insert
        stmt = dialect_insert(table).values(list(rows)).on_conflict_do_nothing(index_elements=list(conflict))
        result = await self.session.execute(stmt)
        return int(getattr(result, "rowcount", 0) or 0)
