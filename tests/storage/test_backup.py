"""`oasis-bot backup` / `restore` on both engines, and from one engine to the other: every
table comes back, values intact (dates, binary, JSON), ids go on after the restored ones;
a restore refuses a running bot, a database already in use, a cut file."""

from __future__ import annotations

import gzip
import subprocess
import sys
import textwrap
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import MetaData, func, select

from bot.backup import BackupError, backup, restore
from bot.standby import FileLock, lease_for
from storage.db import Database
from storage.models.signals import Signal
from tests.support.databases import create_postgres_database, drop_postgres_database, postgres_required

WHEN = datetime(2026, 3, 29, 1, 30, 15, 123456, tzinfo=UTC)  # the night summer time starts


async def fill(db: Database) -> int:
    """Rows of every kind; returns the signal's id (ids depend on the tests run before)."""
    async with db.unit() as repos:
        await repos.state.set("sync.next_batch", "s72_1234")
        await repos.state.set("matrix.device_id", "DEVICEID")
        await repos.inbox.add_many(
            [
                {
                    "event_id": "$e1",
                    "room_id": "!r:x",
                    "sender": "@a:x",
                    "type": "m.room.message",
                    "origin_server_ts": 1,
                    "content": {"body": "!ping é \u202e"},
                }
            ]
        )
        await repos.outbox.enqueue(
            event_type="m.room.message",
            content={"msgtype": "m.notice", "body": "bonjour", "m.mentions": {}},
            dm_user="@a:x",
            attachment=bytes(range(256)),
            attachment_name="données.json",
            attachment_mime="application/json",
            not_before=WHEN,
            dedup_key="digest:2026-W13:!r:x",
        )
        signal = Signal(
            theme="climat",
            title="Rivières à sec",
            url=None,
            url_key=None,
            category="environnemental",
            nature="signal_faible",
            tags=["eau", "été"],
            related=[],
            observed_on=date(2026, 6, 1),
            author_id="@a:x",
            created_at=WHEN,
        )
        await repos.signals.add(signal)
        await repos.commit()
        return signal.id


async def counts(db: Database) -> dict[str, int]:
    meta = MetaData()
    async with db.engine.connect() as conn:
        await conn.run_sync(lambda c: meta.reflect(c))
        return {
            t.name: int((await conn.execute(select(func.count()).select_from(t))).scalar() or 0)
            for t in meta.sorted_tables
            if t.name != "alembic_version"
        }


@pytest.fixture
async def other_engine(db: Database, tmp_path: Path) -> AsyncIterator[str]:
    """A new, empty database on the engine the `db` fixture is not."""
    if not db.is_sqlite:
        yield f"sqlite+aiosqlite:///{tmp_path / 'restored.db'}"
        return
    try:
        url = await create_postgres_database()
    except Exception as exc:
        if postgres_required():
            pytest.fail(f"PostgreSQL unavailable: {exc}")
        pytest.skip(f"PostgreSQL unavailable: {exc}")
    yield url
    await drop_postgres_database(url)


async def test_backup_then_restore_on_the_other_engine(
    db: Database, other_engine: str, tmp_path: Path
) -> None:
    signal_id = await fill(db)
    file = tmp_path / "backup.jsonl.gz"
    made = await backup(db.url, file)
    assert file.stat().st_mode & 0o777 == 0o600
    assert made.tables["outbox_messages"] == 1 and made.tables["bot_state"] == 2

    restored = await restore(other_engine, file)
    assert restored.tables == {k: v for k, v in made.tables.items() if v}
    target = Database(other_engine)
    try:
        assert await counts(target) == await counts(db)
        async with target.unit() as repos:
            assert await repos.state.get("sync.next_batch") == "s72_1234"
            [row] = await repos.outbox.due(WHEN)
            assert row.attachment == bytes(range(256)) and row.attachment_name == "données.json"
            assert row.not_before == WHEN and row.content["m.mentions"] == {}
            assert await repos.outbox.exists("digest:2026-W13:!r:x")
            [event] = await repos.inbox.pending()
            assert event.payload["content"]["body"] == "!ping é \u202e"
            signal = await repos.signals.get(signal_id)
            assert (
                signal is not None
                and signal.tags == ["eau", "été"]
                and signal.observed_on == date(2026, 6, 1)
            )
            assert signal.created_at == WHEN
            # New rows take ids after the restored ones.
            added = await repos.outbox.enqueue(event_type="m.room.message", content={}, room_id="!r:x")
            assert added is not None and added.id > row.id
            await repos.commit()

        # Into a database in use: refused, unless asked to replace it.
        with pytest.raises(BackupError) as refused:
            await restore(other_engine, file)
        assert refused.value.key == "operations.restore.not_empty"
        await restore(other_engine, file, replace=True)
        assert await counts(target) == await counts(db)
    finally:
        await target.dispose()


async def test_restore_refuses_a_running_bot_and_a_cut_file(db: Database, tmp_path: Path) -> None:
    await fill(db)
    file = tmp_path / "backup.jsonl.gz"
    await backup(db.url, file)
    target = f"sqlite+aiosqlite:///{tmp_path / 'target.db'}"
    lock = lease_for(target)
    assert isinstance(lock, FileLock)
    lock.take()  # as a running bot holds it
    with pytest.raises(BackupError) as running:
        await restore(target, file)
    assert running.value.key == "operations.restore.bot_running"
    await lock.release()

    cut = tmp_path / "cut.jsonl.gz"
    cut.write_bytes(gzip.compress(b"\n".join(gzip.decompress(file.read_bytes()).splitlines()[:-1])))
    with pytest.raises(BackupError) as truncated:
        await restore(target, cut)
    assert truncated.value.key == "operations.restore.truncated"
    not_backup = tmp_path / "x.gz"
    not_backup.write_bytes(b"not gzip")
    with pytest.raises(BackupError) as wrong:
        await restore(target, not_backup)
    assert wrong.value.key == "operations.restore.not_a_backup"


def test_the_command_line_in_french(tmp_path: Path) -> None:
    """`oasis-bot backup` then `restore` as an operator types them (SQLite)."""
    config = tmp_path / "config.toml"

    def write(db: Path) -> None:
        config.write_text(
            textwrap.dedent(
                f"""
                [matrix]
                homeserver = "http://127.0.0.1:9"
                user_id = "@oasis:localhost"
                password = "secret"
                [bot]
                rooms = ["!net:localhost"]
                [database]
                url = "sqlite+aiosqlite:///{db}"
                """
            )
        )

    def oasis(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "bot", *args, "--config", str(config)],
            capture_output=True,
            text=True,
            timeout=120,
        )

    source = tmp_path / "source.db"
    subprocess.run(
        [
            sys.executable,
            "-c",
            f"import asyncio; from storage.db import Database; asyncio.run(Database('sqlite:///{source}').migrate())",
        ],
        check=True,
        timeout=120,
    )
    write(source)
    saved = oasis("backup", "--output", str(tmp_path / "b.jsonl.gz"))
    assert saved.returncode == 0, saved.stderr
    assert "Sauvegarde écrite dans" in saved.stdout and "gardez-la en lieu sûr" in saved.stdout
    write(tmp_path / "restored.db")
    loaded = oasis("restore", str(tmp_path / "b.jsonl.gz"))
    assert loaded.returncode == 0, loaded.stderr
    assert "Restauration terminée" in loaded.stdout
    again = oasis("restore", str(tmp_path / "b.jsonl.gz"))
    missing = oasis("restore", str(tmp_path / "absent.gz"))
    # A fresh database holds nothing but the schema: restoring again finds it empty.
    assert again.returncode == 0, again.stderr
    assert missing.returncode == 1 and "Fichier introuvable" in missing.stderr
