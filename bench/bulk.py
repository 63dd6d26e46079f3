"""What the benchmarks share: writing synthetic documents fast — the rows of an aggregate,
the rows that go with them, and their share of the shared search index (postings,
vocabulary, SymSpell variants) exactly as `SearchRepository.index_many` would write them,
in bulk. (Their throw-away PostgreSQL databases come from `tests.support.databases`.)"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Table, insert, text

from storage.db import Database
from storage.models.search import SearchTerm, SearchVariant, SearchVocab
from storage.repositories.search import MIN_TYPO, deletions

CHUNK = 20_000


async def write_bulk(
    db: Database,
    model: Any,
    rows: Sequence[Mapping[str, Any]],
    *,
    kind: str,
    postings: Sequence[Mapping[str, Any]],
    counts: Mapping[str, int],
    extra: Sequence[tuple[Table, Sequence[Mapping[str, Any]]]] = (),
) -> None:
    """Insert `rows` of `model`, the `extra` tables, then the search index; on PostgreSQL
    move the id sequence past the rows; ANALYZE; then settle the files: SQLite's log
    checkpointed, PostgreSQL VACUUMed and checkpointed."""
    vocab = [{"kind": kind, "term": t, "doc_count": n} for t, n in counts.items()]
    variants = {(v, t) for t in counts if len(t) >= MIN_TYPO for v in deletions(t)}
    variant_rows = [{"kind": kind, "variant": v, "term": t} for v, t in variants]
    tables: list[tuple[Any, Sequence[Mapping[str, Any]]]] = [
        (model.__table__, rows),
        *extra,
        (SearchTerm.__table__, postings),
        (SearchVocab.__table__, vocab),
        (SearchVariant.__table__, variant_rows),
    ]
    for table, table_rows in tables:
        for i in range(0, len(table_rows), CHUNK):
            async with db.unit() as repos:
                part = list(table_rows[i : i + CHUNK])
                if table is model.__table__:
                    await repos.session.execute(insert(model), part)
                else:
                    await repos.search.bulk_insert(table, part)
                await repos.commit()
        print(f"  … {table.name}: {len(table_rows)} rows", flush=True)
    async with db.engine.begin() as conn:
        if not db.is_sqlite:
            name = model.__table__.name
            await conn.execute(text(f"SELECT setval('{name}_id_seq', (SELECT max(id) FROM {name}))"))
        await conn.execute(text("ANALYZE"))
    async with db.engine.connect() as conn:
        if db.is_sqlite:
            # The bulk load's write-ahead log copied into the database file now, not by
            # the first commits of the timed part.
            await conn.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
            return
        conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
        # What autovacuum does on a live database: sets the visibility map, so postings
        # are read from the index alone (without it, every posting read visits the heap).
        await conn.execute(text("VACUUM ANALYZE"))
        # The bulk load's dirty pages written out now: otherwise the server's checkpoint
        # writes them (gigabytes, spread over minutes) while the queries are timed, and
        # the reads wait on the disk. A live database is not in the middle of flushing
        # a load of millions of rows. (Needs the right to CHECKPOINT: superuser or
        # pg_checkpoint; without it the benchmark runs as it is, and says so.)
        try:
            await conn.execute(text("CHECKPOINT"))
        except Exception as exc:  # a role without the right: measure anyway
            print(f"  (no CHECKPOINT after the load: {type(exc).__name__})")


def cpu_check() -> str:
    """How fast this machine runs Python right now: a fixed loop, timed. Printed with the
    figures, because a VM's speed can change by half from one hour to the next (on the
    machine of the November benchmarks: 0.19–0.27 s; on the next one, 0.12–0.13 s)."""
    started = time.perf_counter()
    total = 0
    for i in range(3_000_000):
        total += i * i
    return f"cpu check {time.perf_counter() - started:.2f} s (a fixed loop; lower is faster)"
