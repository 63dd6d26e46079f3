"""What the bot writes is its user's alone, and database errors do not carry what was
typed: the SQLite database and the files beside it are 0600 in a folder created 0700
(whatever the umask), the CLI makes every file that way, and an error's message holds no
bound parameter (both engines)."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.exc import IntegrityError

from bot import cli
from storage.db import Database


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def open_umask() -> Iterator[None]:
    """The most common umask (022): files 0644, folders 0755 unless the bot says otherwise."""
    before = os.umask(0o022)
    yield
    os.umask(before)


async def test_sqlite_files_are_private(tmp_path: Path, open_umask: None) -> None:
    folder = tmp_path / "new" / "data"
    db = Database(f"sqlite+aiosqlite:///{folder / 'oasis.db'}")
    try:
        await db.migrate()
        async with db.unit() as repos:
            await repos.state.set("k", "v")
            await repos.commit()
        files = {p.name: mode(p) for p in folder.iterdir()}
    finally:
        await db.dispose()
    assert mode(folder) == 0o700
    assert files == {"oasis.db": 0o600, "oasis.db-wal": 0o600, "oasis.db-shm": 0o600}, files


async def test_files_left_open_by_an_older_version_are_closed(tmp_path: Path, open_umask: None) -> None:
    path = tmp_path / "oasis.db"
    for name in ("oasis.db", "oasis.db-wal"):
        (tmp_path / name).touch(0o644)
    db = Database(f"sqlite+aiosqlite:///{path}")
    await db.dispose()
    assert mode(path) == 0o600 and mode(tmp_path / "oasis.db-wal") == 0o600


def test_the_cli_makes_every_file_private(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    masks: list[int] = []
    real = os.umask
    monkeypatch.setattr(os, "umask", lambda m: masks.append(m) or real(m))
    before = real(0o022)
    try:
        cli.main(["check-config", str(tmp_path / "absent.toml")])
        assert masks[:1] == [0o077]
        made = tmp_path / "export.csv"
        made.write_text("x")  # as any export or backup would
        assert mode(made) == 0o600
    finally:
        real(before)


async def test_database_errors_hold_no_parameter(db: Database) -> None:
    secret = "Militante syndicaliste, diabétique"
    async with db.unit() as repos:
        await repos.inbox.add_many([{"event_id": "$x", "room_id": "!r:x", "sender": "@a:x", "content": {}}])
        await repos.commit()
    from storage.models.runtime import InboxEvent

    with pytest.raises(IntegrityError) as caught:
        async with db.unit() as repos:
            repos.session.add(
                InboxEvent(
                    event_id="$x", room_id="!r:x", sender=secret, event_type="t", payload={}, origin_ts=0
                )
            )
            await repos.commit()
    assert secret not in str(caught.value) and "diab" not in str(caught.value)
    assert "hidden" in str(caught.value)
