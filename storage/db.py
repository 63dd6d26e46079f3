"""The database: engine, units of work, migrations.

SQLite (aiosqlite) is the default and runs in WAL mode so the sync loop, the handlers and
the sender can read while one of them writes; PostgreSQL (asyncpg) is chosen by URL."""

from __future__ import annotations

import ast
import logging
import os
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import event, inspect, text
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as SQLAlchemyTimeout
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine

from storage.unit import Repos

if TYPE_CHECKING:
    from alembic.config import Config as AlembicConfig

log = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).parent / "migrations"
# How long a SQLite writer waits for another one (a backup, `import-contacts`, a `sqlite3`
# shell) before « database is locked »; the loops and handlers then try again.
SQLITE_BUSY_SECONDS = 30.0
# What the database says when it is busy or out of reach for a while, not wrong.
_TRANSIENT_WORDS = ("locked", "busy", "connect", "closed", "terminat", "timeout", "timed out", "shutdown")


def is_transient(exc: BaseException) -> bool:
    """Whether a database error is worth trying again later: SQLite busy with another
    writer, PostgreSQL unreachable or restarting. A wrong statement or a missing table
    is not."""
    if isinstance(exc, DBAPIError):
        if exc.connection_invalidated or isinstance(exc, InterfaceError):
            return True
        if isinstance(exc, OperationalError):
            text = str(exc.orig).lower()
            return any(word in text for word in _TRANSIENT_WORDS)
        return False
    if isinstance(exc, SQLAlchemyTimeout):  # no connection free in the pool
        return True
    if isinstance(exc, sqlite3.OperationalError):  # from the driver itself (`fetch_prepared`)
        return any(word in str(exc).lower() for word in _TRANSIENT_WORDS)
    if any(c.__name__ in _ASYNCPG_TRANSIENT for c in type(exc).__mro__):
        return True
    return isinstance(exc, OSError | TimeoutError)


# asyncpg's own errors (`fetch_prepared` runs statements on the driver): lost connections.
_ASYNCPG_TRANSIENT = frozenset(
    {
        "PostgresConnectionError",
        "ConnectionDoesNotExistError",
        "CannotConnectNowError",
        "TooManyConnectionsError",
        "AdminShutdownError",
        "InterfaceError",
    }
)


def normalize_url(url: str) -> str:
    """Accept the URLs people write (`postgresql://`, `sqlite:///x.db`) and pick the
    async driver."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres", "postgresql+psycopg2"):
        parsed = parsed.set(drivername="postgresql+asyncpg")
    elif parsed.drivername == "sqlite":
        parsed = parsed.set(drivername="sqlite+aiosqlite")
    return parsed.render_as_string(hide_password=False)


def alembic_config() -> AlembicConfig:
    from alembic.config import Config as AlembicConfig

    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg


# What a database refusing or failing a statement raises, for callers outside storage/
# (the command line reports it instead of a traceback).
DatabaseError = DBAPIError


class Database:
    def __init__(self, url: str, *, echo: bool = False) -> None:
        self.url = normalize_url(url)
        # A database error's message (logged, maybe shown in a traceback) never carries
        # the values of the statement: they are what members typed, profiles, tokens.
        kwargs: dict[str, Any] = {"echo": echo, "hide_parameters": True}
        self.is_sqlite = self.url.startswith("sqlite")
        if self.is_sqlite:
            database = make_url(self.url).database
            if database and database != ":memory:" and not database.startswith("file:"):
                private_sqlite_file(Path(database))
            # Waits for a concurrent writer instead of failing with « database is locked ».
            kwargs["connect_args"] = {"timeout": SQLITE_BUSY_SECONDS}
            # Every unit ends its transaction (a commit, or the session's rollback when it
            # closes): the pool's own rollback when the connection comes back would be
            # one more trip to aiosqlite's thread per unit, for nothing.
            kwargs["pool_reset_on_return"] = None
        else:
            kwargs["pool_size"] = 5
            kwargs["max_overflow"] = 5
            kwargs["pool_pre_ping"] = True
            # Plan each query for its own values: the search index is skewed (a word may
            # be in every document or in one), and a generic plan reused by asyncpg's
            # prepared statements can scan a whole posting list (seconds instead of ms).
            # No parallel workers and no JIT: the bot's queries are small indexed reads,
            # for which starting workers (5–10 ms) or compiling a plan costs more than the
            # work itself (measured on the search: 13 ms with two workers, 4 ms without).
            kwargs["connect_args"] = {
                "server_settings": {
                    "plan_cache_mode": "force_custom_plan",
                    "max_parallel_workers_per_gather": "0",
                    "jit": "off",
                }
            }
        self.engine: AsyncEngine = create_async_engine(self.url, **kwargs)
        if self.is_sqlite:
            event.listen(self.engine.sync_engine, "connect", _sqlite_pragmas)
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False)

    @asynccontextmanager
    async def unit(self) -> AsyncIterator[Repos]:
        """A unit of work. Nothing is committed unless the caller calls `commit()`."""
        async with self.sessions() as session:
            try:
                yield Repos(session)
            except BaseException:
                await session.rollback()
                raise

    async def migrate(self) -> None:
        """Apply every migration not yet applied (all feature branches: `heads`).
        A database already at the heads is left alone without loading Alembic, which
        would stay in memory for the bot's whole life (11 MB of its ~95)."""
        async with self.engine.begin() as conn:
            if await conn.run_sync(is_up_to_date):
                return
            await conn.run_sync(_upgrade)

    async def dispose(self) -> None:
        await self.engine.dispose()


def private_sqlite_file(path: Path) -> None:
    """The database file readable and writable by the bot's user only (0600), in a folder
    created 0700 when it does not exist; SQLite gives its `-wal` and `-shm` files the
    database's own mode. Files an older version left open to others are closed to them."""
    if not path.parent.exists():
        path.parent.mkdir(parents=True, mode=0o700)
    elif path.parent.stat().st_mode & 0o077:
        log.warning("database folder %s is open to other users (its files are not): chmod 700", path.parent)
    os.close(os.open(path, os.O_RDWR | os.O_CREAT, 0o600))
    for file in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        if file.exists() and file.stat().st_mode & 0o077:
            file.chmod(0o600)


def _upgrade(connection: Connection) -> None:
    from alembic import command

    cfg = alembic_config()
    cfg.attributes["connection"] = connection
    command.upgrade(cfg, "heads")


def is_up_to_date(connection: Connection) -> bool:
    """Whether the revisions recorded in the database are exactly the migrations' heads.
    Anything else (a new database, a migration added, a table missing) says no, and
    Alembic then decides what to run."""
    if not inspect(connection).has_table("alembic_version"):
        return False
    recorded = {row[0] for row in connection.execute(text("SELECT version_num FROM alembic_version"))}
    return recorded == migration_heads()


@cache
def migration_heads() -> frozenset[str]:
    """The revisions no other migration builds on (`down_revision`), read from the
    migration files' source: what Alembic records once every branch is applied."""
    revisions: set[str] = set()
    built_on: set[str] = set()
    for path in (MIGRATIONS / "versions").glob("*.py"):
        values = _assigned(ast.parse(path.read_text()), ("revision", "down_revision"))
        if isinstance(values.get("revision"), str):
            revisions.add(values["revision"])
        down = values.get("down_revision")
        built_on.update([down] if isinstance(down, str) else (down or ()))
    return frozenset(revisions - built_on)


def _assigned(module: ast.Module, names: tuple[str, ...]) -> dict[str, Any]:
    """Module-level `name = <literal>` and `name: type = <literal>` values."""
    out: dict[str, Any] = {}
    target: ast.expr
    for node in module.body:
        if isinstance(node, ast.AnnAssign) and node.value is not None:
            target, value = node.target, node.value
        elif isinstance(node, ast.Assign) and len(node.targets) == 1:
            target, value = node.targets[0], node.value
        else:
            continue
        if isinstance(target, ast.Name) and target.id in names:
            out[target.id] = ast.literal_eval(value)
    return out


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    # What is deleted (an erased member) is overwritten in the file, not left in free
    # space (Debian's SQLite does so by default; others do not).
    cursor.execute("PRAGMA secure_delete=ON")
    # Read the file through memory mapping (up to 256 MB): the OS's page cache is read in
    # place instead of copied page by page into SQLite's own 2 MB cache. The mapped pages
    # are the file's, shared and reclaimable, not the process's memory. Directory search
    # p95 at 100 000 profiles, same database, alternating: 15.7–17.0 → 10.1–13.6 ms.
    cursor.execute("PRAGMA mmap_size=268435456")
    cursor.close()
