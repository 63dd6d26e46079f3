"""The migrations build exactly the schema the models declare, on both engines: a model
changed without its migration (or the reverse) fails here, not in production."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text

from storage.base import Base
from storage.db import Database, is_up_to_date, migration_heads


def _differences(connection: Any) -> list[Any]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return compare_metadata(context, Base.metadata)


async def test_migrations_match_the_models(db: Database) -> None:
    async with db.engine.connect() as conn:
        diff = await conn.run_sync(_differences)
    assert diff == []


async def test_a_migrated_database_is_recorded_at_exactly_the_heads(db: Database) -> None:
    """What `migrate` checks to skip Alembic is what Alembic itself records."""
    async with db.engine.connect() as conn:
        assert await conn.run_sync(is_up_to_date)
        recorded = set((await conn.execute(text("SELECT version_num FROM alembic_version"))).scalars())
    # Three branches at least: the runtime's (with the search index), the directory's, the signals'.
    assert recorded == migration_heads() and len(recorded) >= 3


async def test_a_database_behind_or_new_is_not_up_to_date(db: Database, tmp_path: Path) -> None:
    async with db.engine.begin() as conn:
        await conn.execute(
            text(
                "UPDATE alembic_version SET version_num = '0101_directory' "
                "WHERE version_num = '0102_facet_statistics'"
            )
        )
        try:
            assert not await conn.run_sync(is_up_to_date)
        finally:
            await conn.execute(
                text(
                    "UPDATE alembic_version SET version_num = '0102_facet_statistics' "
                    "WHERE version_num = '0101_directory'"
                )
            )
    fresh = Database(f"sqlite+aiosqlite:///{tmp_path / 'new.db'}")
    try:
        async with fresh.engine.connect() as conn:
            assert not await conn.run_sync(is_up_to_date)
        await fresh.migrate()
        async with fresh.engine.connect() as conn:
            assert await conn.run_sync(is_up_to_date)
    finally:
        await fresh.dispose()


def test_starting_on_an_up_to_date_database_does_not_load_alembic(tmp_path: Path) -> None:
    """Alembic stays out of a running bot's memory once its database is migrated."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}"
    script = (
        "import asyncio, sys\n"
        "from storage.db import Database\n"
        f"db = Database({url!r})\n"
        "async def main():\n"
        "    await db.migrate()\n"
        "    await db.dispose()\n"
        "asyncio.run(main())\n"
        "print('alembic' in sys.modules)\n"
    )
    root = Path(__file__).resolve().parents[2]

    def run() -> str:
        done = subprocess.run(
            [sys.executable, "-c", script], cwd=root, capture_output=True, text=True, timeout=120, check=True
        )
        return done.stdout.strip()

    assert run() == "True"  # a new database: Alembic creates the schema
    assert run() == "False"  # the same database again: nothing to do, Alembic not loaded


async def test_upgrading_forgets_what_older_versions_kept(db: Database) -> None:
    """0005: handled events, spent messages and words no document holds, from before."""
    async with db.unit() as repos:
        await repos.inbox.add_many(
            [
                {
                    "event_id": "$old",
                    "room_id": "!r:x",
                    "sender": "@zoe:x",
                    "type": "m.room.message",
                    "content": {"body": "!profil presentation syndicaliste"},
                },
                {
                    "event_id": "$new",
                    "room_id": "!r:x",
                    "sender": "@zoe:x",
                    "type": "m.room.message",
                    "content": {"body": "!ping"},
                },
            ]
        )
        await repos.inbox.mark_done("$old")
        sent = await repos.outbox.enqueue(
            event_type="m.room.message", content={"body": "Zoé"}, dm_user="@zoe:x"
        )
        assert sent is not None
        await repos.search.index("profile", 1, [("zythologie prospective", 1)])
        await repos.search.index("profile", 2, [("prospective", 1)])
        await repos.commit()
    async with db.engine.begin() as conn:
        # As an older version left them: the text kept, and a word with no document.
        await conn.execute(text("UPDATE outbox_messages SET status = 'sent'"))
        await conn.execute(text("DELETE FROM search_terms WHERE doc_id = 1"))
        await conn.execute(text("UPDATE search_vocab SET doc_count = 0 WHERE term = 'zythologie'"))
        await conn.execute(
            text(
                "UPDATE alembic_version SET version_num = '0004_member_reminders'"
                " WHERE version_num = '0005_forget_handled'"
            )
        )
    await db.migrate()
    async with db.engine.connect() as conn:
        inbox = dict((await conn.execute(text("SELECT event_id, sender FROM inbox_events"))).all())
        assert inbox == {"$old": "", "$new": "@zoe:x"}
        outbox = (await conn.execute(text("SELECT dm_user, content FROM outbox_messages"))).all()
        assert [row[0] for row in outbox] == [None] and "Zo" not in str(outbox)
        vocab = set((await conn.execute(text("SELECT term FROM search_vocab"))).scalars())
        variants = set((await conn.execute(text("SELECT DISTINCT term FROM search_variants"))).scalars())
        assert vocab == variants == {"prospective"}
        assert await conn.run_sync(is_up_to_date)
