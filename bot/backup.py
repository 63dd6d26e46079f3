"""`oasis-bot backup` and `oasis-bot restore`: the whole database in one file, from
either engine to either engine.

The file (gzip, JSON lines) holds every table of the database — the sync position, the
inbox and outbox, schedules, every feature's data, the Matrix session and the encryption
keys kept there — and the migration revisions it was at. Nothing else is needed to bring
the bot back on another machine: the same device, the same keys, the same schedules.

- Backup reads one consistent snapshot while the bot runs (PostgreSQL: a repeatable-read
  transaction; SQLite: SQLite's online backup into a temporary copy first). The file is
  created 0600: it holds personal data and keys.
- Restore goes into an empty database (or `--replace`s what is there), with no bot
  running on it (it takes the bot's own lock, so it refuses while one runs). The schema
  is built at the backup's revisions, the rows loaded, then any newer migration applied:
  a backup made by an older version restores into a newer one.
- Values are written by kind (dates ISO 8601 in UTC, binary in base64, JSON as is), so a
  SQLite backup restores into PostgreSQL and back."""

from __future__ import annotations

import base64
import contextlib
import gzip
import json
import logging
import os
import sqlite3
import tempfile
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from decimal import Decimal
from importlib import metadata as importlib_metadata
from pathlib import Path
from typing import IO, Any

from sqlalchemy import MetaData, Table, insert, inspect, select, text
from sqlalchemy import types as sqltypes
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.db import Database, alembic_config, migration_heads, normalize_url

log = logging.getLogger(__name__)

FORMAT = "oasis-bot-backup"
FORMAT_VERSION = 1
BATCH = 500
SKIPPED = {"alembic_version"}  # recorded as `revisions`


class BackupError(Exception):
    """Something the operator must fix; `key` and `params` name the catalog message."""

    def __init__(self, key: str, **params: Any) -> None:
        super().__init__(key)
        self.key = key
        self.params = params


@dataclass
class Summary:
    tables: dict[str, int] = field(default_factory=dict)
    revisions: list[str] = field(default_factory=list)

    @property
    def rows(self) -> int:
        return sum(self.tables.values())


# --- values ------------------------------------------------------------------------


def _kind(column_type: Any) -> str:
    if isinstance(column_type, sqltypes.DateTime):
        return "datetime"
    if isinstance(column_type, sqltypes.Date):
        return "date"
    if isinstance(column_type, sqltypes.Time):
        return "time"
    if isinstance(column_type, sqltypes.LargeBinary | sqltypes._Binary):
        return "binary"
    if isinstance(column_type, sqltypes.JSON):
        return "json"
    if isinstance(column_type, sqltypes.Numeric) and not isinstance(column_type, sqltypes.Float):
        return "decimal"
    return "plain"


def encode(kind: str, value: Any) -> Any:
    if value is None:
        return None
    if kind == "datetime":
        if value.tzinfo is None:  # SQLite keeps UTC without its zone
            value = value.replace(tzinfo=UTC)
        return value.astimezone(UTC).isoformat()
    if kind in ("date", "time"):
        return value.isoformat()
    if kind == "binary":
        return base64.b64encode(bytes(value)).decode()
    if kind == "decimal" or isinstance(value, Decimal):
        return str(value)
    if kind == "json" and isinstance(value, str):  # a driver that hands JSON back as text
        return json.loads(value)
    return value


def decode(kind: str, value: Any, *, aware: bool) -> Any:
    if value is None:
        return None
    if kind == "datetime":
        moment = datetime.fromisoformat(value)
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        return moment if aware else moment.astimezone(UTC).replace(tzinfo=None)
    if kind == "date":
        return date.fromisoformat(value)
    if kind == "time":
        return time.fromisoformat(value)
    if kind == "binary":
        return base64.b64decode(value)
    if kind == "decimal":
        return Decimal(value)
    return value


# --- backup ------------------------------------------------------------------------


def package_version() -> str:
    try:
        return importlib_metadata.version("oasis-bot")
    except importlib_metadata.PackageNotFoundError:
        return "?"


async def backup(database_url: str, output: Path) -> Summary:
    """Write the whole database to `output` (gzip'd JSON lines, mode 0600)."""
    url = normalize_url(database_url)
    with _snapshot(url) as source_url:
        db = Database(source_url)
        try:
            async with _read_snapshot(db) as conn:
                return await _dump(conn, output, engine=db.engine.dialect.name)
        finally:
            await db.dispose()


@contextlib.contextmanager
def _snapshot(url: str) -> Iterator[str]:
    """SQLite: a consistent copy made by SQLite's online backup (the bot may be writing);
    PostgreSQL reads its own snapshot, so the URL as is."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        yield url
        return
    source = parsed.database or ""
    if not source or not Path(source).exists():
        raise BackupError("operations.backup.no_database", database=source or url)
    with tempfile.TemporaryDirectory(prefix="oasis-backup-") as folder:
        copy = Path(folder) / "snapshot.db"
        with (
            contextlib.closing(sqlite3.connect(source)) as src,
            contextlib.closing(sqlite3.connect(copy)) as dst,
        ):
            src.backup(dst)
        yield parsed.set(database=str(copy)).render_as_string(hide_password=False)


@contextlib.asynccontextmanager
async def _read_snapshot(db: Database) -> AsyncIterator[AsyncConnection]:
    options: dict[str, Any] = {}
    if not db.is_sqlite:
        options["isolation_level"] = "REPEATABLE READ"
    async with db.engine.connect() as conn:
        conn = await conn.execution_options(**options)
        async with conn.begin():
            yield conn


async def _dump(conn: AsyncConnection, output: Path, *, engine: str) -> Summary:
    meta = MetaData()
    await conn.run_sync(lambda c: meta.reflect(c))
    if "alembic_version" not in meta.tables:
        raise BackupError("operations.backup.not_a_bot_database")
    revisions = sorted(r[0] for r in (await conn.execute(text("SELECT version_num FROM alembic_version"))))
    summary = Summary(revisions=revisions)
    output.parent.mkdir(parents=True, exist_ok=True)
    partial = output.with_name(output.name + ".partial")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "wb") as raw, gzip.open(raw, "wt", encoding="utf-8") as out:
            _line(
                out,
                {
                    "format": FORMAT,
                    "format_version": FORMAT_VERSION,
                    "created_at": datetime.now(UTC).isoformat(),
                    "oasis_bot": package_version(),
                    "engine": engine,
                    "revisions": revisions,
                },
            )
            for table in meta.sorted_tables:
                if table.name in SKIPPED:
                    continue
                kinds = [_kind(c.type) for c in table.columns]
                _line(out, {"table": table.name, "columns": [c.name for c in table.columns]})
                count = 0
                result = await conn.stream(select(table))
                async for rows in result.partitions(BATCH):
                    for row in rows:
                        out.write(json.dumps([encode(k, v) for k, v in zip(kinds, row, strict=True)]))
                        out.write("\n")
                    count += len(rows)
                summary.tables[table.name] = count
            _line(out, {"end": summary.tables})
        os.replace(partial, output)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(partial)
        raise
    return summary


def _line(out: IO[str], obj: dict[str, Any]) -> None:
    out.write(json.dumps(obj, ensure_ascii=False))
    out.write("\n")


# --- restore -----------------------------------------------------------------------


@dataclass
class _Section:
    table: str
    columns: list[str]
    rows: list[list[Any]]


def read_backup(path: Path) -> tuple[dict[str, Any], Iterator[_Section]]:
    """The header, and the tables one by one (rows in batches)."""
    try:
        handle = gzip.open(path, "rt", encoding="utf-8")  # noqa: SIM115 (closed by `sections`)
        header = json.loads(handle.readline())
    except (OSError, ValueError, EOFError):
        raise BackupError("operations.restore.not_a_backup", path=str(path)) from None
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        handle.close()
        raise BackupError("operations.restore.not_a_backup", path=str(path))
    if int(header.get("format_version", 0)) > FORMAT_VERSION:
        handle.close()
        raise BackupError("operations.restore.too_new", version=header.get("oasis_bot", "?"))

    def sections() -> Iterator[_Section]:
        with handle:
            current: _Section | None = None
            ended = False
            for line in handle:
                item = json.loads(line)
                if isinstance(item, list):
                    assert current is not None
                    current.rows.append(item)
                    if len(current.rows) >= BATCH:
                        yield current
                        current = _Section(current.table, current.columns, [])
                    continue
                if current is not None and current.rows:
                    yield current
                current = None
                if "table" in item:
                    current = _Section(item["table"], list(item["columns"]), [])
                elif "end" in item:
                    ended = True
            if not ended:  # cut short: a copy interrupted, a disk full
                raise BackupError("operations.restore.truncated", path=str(path))

    return header, sections()


async def restore(database_url: str, source: Path, *, replace: bool = False) -> Summary:
    """Load a backup into the database at `database_url`; see the module's docstring."""
    from bot.standby import AlreadyRunning, lease_for

    header, sections = read_backup(source)
    revisions = [str(r) for r in header.get("revisions", [])]
    known = _known_revisions()
    unknown = [r for r in revisions if r not in known]
    if unknown:
        raise BackupError(
            "operations.restore.newer_schema",
            version=header.get("oasis_bot", "?"),
            revisions=", ".join(unknown),
        )
    url = normalize_url(database_url)
    lease = lease_for(url)
    try:
        if not await lease.try_acquire():
            raise BackupError("operations.restore.bot_running")
    except AlreadyRunning:
        raise BackupError("operations.restore.bot_running") from None
    db = Database(url)
    try:
        async with db.engine.begin() as conn:
            filled = await conn.run_sync(_tables_with_rows)
        if filled and not replace:
            raise BackupError("operations.restore.not_empty", tables=", ".join(filled[:5]))
        at_heads = set(revisions) == set(migration_heads())
        async with db.engine.begin() as conn:
            await conn.run_sync(_upgrade_to, None if at_heads else revisions)
        summary = Summary(revisions=revisions)
        async with db.engine.begin() as conn:
            meta = MetaData()
            await conn.run_sync(lambda c: meta.reflect(c))
            if filled:
                for table in reversed(meta.sorted_tables):
                    if table.name not in SKIPPED:
                        await conn.execute(table.delete())
            for section in sections:
                table = meta.tables.get(section.table)
                if table is None:
                    raise BackupError("operations.restore.unknown_table", table=section.table)
                await conn.execute(insert(table), _rows(table, section))
                summary.tables[section.table] = summary.tables.get(section.table, 0) + len(section.rows)
            if not db.is_sqlite:
                await conn.run_sync(_reset_sequences, meta)
        if not at_heads:
            await db.migrate()  # what came after the backup's version
        return summary
    finally:
        await db.dispose()
        await lease.release()


def _rows(table: Table, section: _Section) -> list[dict[str, Any]]:
    columns = [table.columns.get(name) for name in section.columns]
    missing = [name for name, c in zip(section.columns, columns, strict=True) if c is None]
    if missing:
        raise BackupError("operations.restore.unknown_column", table=table.name, column=missing[0])
    plan = [
        (c.name, _kind(c.type), bool(getattr(c.type, "timezone", False)))  # type: ignore[union-attr]
        for c in columns
    ]
    return [
        {name: decode(kind, value, aware=aware) for (name, kind, aware), value in zip(plan, row, strict=True)}
        for row in section.rows
    ]


def _tables_with_rows(conn: Connection) -> list[str]:
    names = [n for n in inspect(conn).get_table_names() if n not in SKIPPED]
    return [n for n in names if conn.execute(text(f'SELECT 1 FROM "{n}" LIMIT 1')).first() is not None]


def _upgrade_to(conn: Connection, revisions: list[str] | None) -> None:
    """The schema at the backup's revisions (None: today's heads)."""
    from alembic import command

    cfg = alembic_config()
    cfg.attributes["connection"] = conn
    for target in revisions or ["heads"]:
        command.upgrade(cfg, target)


def _known_revisions() -> set[str]:
    from alembic.script import ScriptDirectory

    return {rev.revision for rev in ScriptDirectory.from_config(alembic_config()).walk_revisions()}


def _reset_sequences(conn: Connection, meta: MetaData) -> None:
    """PostgreSQL: the next generated id follows the restored ones."""
    for table in meta.sorted_tables:
        for column in table.primary_key.columns:
            sequence = conn.execute(
                text("SELECT pg_get_serial_sequence(:t, :c)"), {"t": f'"{table.name}"', "c": column.name}
            ).scalar()
            if sequence:
                highest = f'SELECT COALESCE(max("{column.name}"), 0) + 1 FROM "{table.name}"'
                conn.execute(text(f"SELECT setval(:s, ({highest}), false)"), {"s": sequence})
