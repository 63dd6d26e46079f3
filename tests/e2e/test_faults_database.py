"""The database busy or broken, against the real Synapse: a SQLite write lock held longer
than the bot waits for it (a backup, `import-contacts`, a `sqlite3` shell) pauses the bot
and it answers within seconds of the lock's release; an error it cannot wait out stops
the process with a non-zero exit code, so a supervisor restarts it."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import make_url

from bot.homeserver import EmbeddedSynapse
from storage import db as storage_db
from tests.conftest import BotStarter
from tests.support.matrix import TestUser, room_with_bot
from tests.support.process import BotProcess

pytestmark = pytest.mark.slow


def _file_of(url: str) -> str:
    return str(make_url(url).database)


async def test_a_write_lock_held_longer_than_the_busy_timeout_pauses_the_bot(
    start_bot: BotStarter, user: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    # The bot waits 1 s for a writer instead of 30: the same failure, 30 times sooner.
    monkeypatch.setattr(storage_db, "SQLITE_BUSY_SECONDS", 1.0)
    bot = await start_bot()
    alice: TestUser = await user("alice")
    room = await room_with_bot(alice, bot.user_id)

    holder = sqlite3.connect(_file_of(bot.db_url), isolation_level=None, timeout=30)  # type: ignore[attr-defined]
    try:
        holder.execute("BEGIN IMMEDIATE")  # the write lock, as a backup holds it
        mark = alice.mark()
        await alice.send(room, "!ping")
        await asyncio.sleep(6)  # the sync loop meets the lock several times
        assert not bot.task.done(), "the bot stopped while the database was locked"
        holder.execute("ROLLBACK")
        released = time.monotonic()
    finally:
        holder.close()
    reply = await alice.wait_message(sender=bot.user_id, room_id=room, since=mark, timeout=20)
    assert "pong" in reply.body
    assert time.monotonic() - released < 10
    await alice.send(room, "!ping")
    await alice.wait_message(sender=bot.user_id, room_id=room, since=mark + 1, contains="pong")
    assert not bot.task.done()


@pytest.fixture
async def processes() -> AsyncIterator[list[BotProcess]]:
    made: list[BotProcess] = []
    yield made
    for p in made:
        await p.stop(timeout=10)


async def test_an_error_the_bot_cannot_wait_out_stops_it_with_exit_code_1(
    homeserver: EmbeddedSynapse,
    register: Callable[..., Any],
    user: Callable[..., Any],
    tmp_path: Path,
    processes: list[BotProcess],
) -> None:
    account = await register("oasis")
    url = f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}"
    bot = BotProcess(homeserver, account, url, tmp_path)
    processes.append(bot)
    bot.start()
    await bot.wait_role("active")
    alice: TestUser = await user("alice")
    room = await room_with_bot(alice, bot.user_id)
    with sqlite3.connect(_file_of(url)) as broken:
        broken.execute("DROP TABLE bot_state")  # where the sync token is kept
    await alice.send(room, "!ping")  # a sync, so the token is written
    assert bot.process is not None
    deadline = time.monotonic() + 30
    while bot.process.poll() is None and time.monotonic() < deadline:
        await asyncio.sleep(0.1)
    assert bot.process.poll() == 1, bot.log()[-2000:]
    assert "stopped unexpectedly" in bot.log()
