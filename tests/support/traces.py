"""Looking for a person in a whole database: every column of every table, read back by
reflecting the database itself (so a table added tomorrow is scanned too)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import MetaData, select

from bot.text import fold
from storage.db import Database


@dataclass
class Scan:
    tables: int = 0
    columns: int = 0
    rows: int = 0
    cells: int = 0
    found: list[str] = field(default_factory=list)  # « table.column = value » per hit


def needles_of(words: list[str]) -> set[str]:
    """The folded words and, for the longer ones, their one-deletion variants (the search
    index keeps those too)."""
    out: set[str] = set()
    for w in words:
        f = fold(w)
        out.add(f)
        if len(f) >= 6:
            out.update(f[:i] + f[i + 1 :] for i in range(len(f)))
    return out


def _text(value: Any) -> str:
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).decode("utf-8", "ignore")
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    text = str(value)
    if text[:1] in ("{", "[", '"'):  # JSON stored as text: « \u00e9 » read as « é »
        try:
            return json.dumps(json.loads(text), ensure_ascii=False)
        except ValueError:
            pass
    return text


async def scan(db: Database, words: list[str], *, skip: set[str] = frozenset()) -> Scan:  # type: ignore[assignment]
    """Every cell of every table, folded, searched for the words (and their variants)."""
    needles = needles_of(words)
    metadata = MetaData()
    result = Scan()
    async with db.engine.connect() as conn:
        await conn.run_sync(lambda sync: metadata.reflect(sync))
        for table in metadata.sorted_tables:
            if table.name in skip:
                continue
            result.tables += 1
            result.columns += len(table.columns)
            for row in (await conn.execute(select(table))).all():
                result.rows += 1
                for column, value in zip(table.columns, row, strict=True):
                    if value is None:
                        continue
                    result.cells += 1
                    folded = fold(_text(value))
                    hits = sorted(n for n in needles if n in folded)
                    if hits:
                        result.found.append(
                            f"{table.name}.{column.name} = {_text(value)[:160]!r} ({hits[0]})"
                        )
    return result
