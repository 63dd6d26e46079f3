"""The database: engine, units of work, migrations.

SQLite (aiosqlite) is the default and runs in WAL mode so the sync loop, the handlers and
the sender can read while one of them writes; PostgreSQL (asyncpg) is chosen by URL."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config as AlembicConfig
from sqlalchemy import event
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine

from storage.unit import Repos

log = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).parent / "migrations"


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
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg


class Database:
    def __init__(self, url: str, *, echo: bool = False) -> None:
        self.url = normalize_url(url)
        kwargs: dict[str, Any] = {"echo": echo}
        self.is_sqlite = self.url.startswith("sqlite")
        if self.is_sqlite:
            database = make_url(self.url).database
            if database and database != ":memory:":
                Path(database).parent.mkdir(parents=True, exist_ok=True)
            # Waits for a concurrent writer instead of failing with « database is locked ».
            kwargs["connect_args"] = {"timeout": 30}
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
        """Apply every migration not yet applied (all feature branches: `heads`)."""
        async with self.engine.begin() as conn:
            await conn.run_sync(_upgrade)

    async def dispose(self) -> None:
        await self.engine.dispose()


def _upgrade(connection: Connection) -> None:
    cfg = alembic_config()
    cfg.attributes["connection"] = connection
    command.upgrade(cfg, "heads")


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    # Read the file through memory mapping (up to 256 MB): the OS's page cache is read in
    # place instead of copied page by page into SQLite's own 2 MB cache. The mapped pages
    # are the file's, shared and reclaimable, not the process's memory. Directory search
    # p95 at 100 000 profiles, same database, alternating: 15.7–17.0 → 10.1–13.6 ms.
    cursor.execute("PRAGMA mmap_size=268435456")
    cursor.close()
