"""Test databases: SQLite always; PostgreSQL when one answers.

`OASIS_TEST_POSTGRES_URL` names the server (default: the local one on 127.0.0.1:5432). Each
test session creates its own database there and drops it at the end. Without PostgreSQL
the PostgreSQL cases are skipped with the reason shown; with `OASIS_TEST_POSTGRES_REQUIRED=1`
(CI) they fail instead."""

from __future__ import annotations

import asyncio
import os
import uuid

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from storage.base import Base
from storage.db import Database, normalize_url

DEFAULT_PG = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"


def postgres_server_url() -> str:
    return normalize_url(os.environ.get("OASIS_TEST_POSTGRES_URL", DEFAULT_PG))


def postgres_required() -> bool:
    return os.environ.get("OASIS_TEST_POSTGRES_REQUIRED") == "1"


async def create_postgres_database() -> str:
    """A fresh database on the test server; returns its URL. Raises OSError-like errors
    when the server is unreachable."""
    return await create_database(postgres_server_url(), "oasis_test")


async def drop_postgres_database(url: str) -> None:
    await drop_database(postgres_server_url(), url)


async def create_database(server_url: str, prefix: str) -> str:
    """A new, empty database named `prefix_<random>` on a PostgreSQL server; its URL.
    (The benchmarks use it too.)"""
    server = make_url(normalize_url(server_url))
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    engine = create_async_engine(server, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as conn:
            await asyncio.wait_for(conn.execute(text(f'CREATE DATABASE "{name}"')), timeout=10)
    finally:
        await engine.dispose()
    return server.set(database=name).render_as_string(hide_password=False)


async def drop_database(server_url: str, url: str) -> None:
    engine = create_async_engine(make_url(normalize_url(server_url)), isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as conn:
            await conn.execute(text(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)'))
    finally:
        await engine.dispose()


async def empty_tables(db: Database) -> None:
    """Every table emptied (children first): a migrated database shared by a module's tests
    starts each test empty."""
    async with db.engine.begin() as conn:
        for table in reversed(Base.metadata.sorted_tables):
            await conn.execute(text(f'DELETE FROM "{table.name}"'))
