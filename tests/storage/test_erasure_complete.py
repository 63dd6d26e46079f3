"""`!oublier-moi` leaves nothing of the person in any table (SQLite and PostgreSQL).

After a whole life with the bot (`tests/support/member_life.py`), Zoé asks to be
forgotten from a direct chat, no longer in any of the network's rooms. Every cell of
every table (reflected from the database: new tables are covered without touching this
test) is then searched for her name, her Matrix ID, her profile's words and those
words' one-edit variants."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import make_url

from commands.signals import SIGNALS_DATA
from storage.db import Database
from tests.support.member_life import BOB, DM, TRACES, ZOE, bodies, dispatcher_for, live_everything, say
from tests.support.traces import scan


@pytest.fixture(params=[False, True], ids=["signals-deleted", "signals-kept"])
def keep_signals(request: pytest.FixtureRequest) -> Any:
    before = SIGNALS_DATA.keep_content
    SIGNALS_DATA.keep_content = request.param
    yield request.param
    SIGNALS_DATA.keep_content = before


async def test_nothing_of_them_remains_in_any_table(db: Database, keep_signals: bool) -> None:
    d = dispatcher_for(db)
    await live_everything(d)
    before = await scan(db, TRACES)
    assert len(before.found) > 20, before.found  # the scan sees them while they are there

    # She left the network's rooms; she asks from her direct chat.
    d = dispatcher_for(db, zoe_in_room=False)
    await say(d, ZOE, "!oublier-moi", room=DM)
    done = bodies(await say(d, ZOE, "!oublier-moi confirmer", room=DM))
    assert "C'est fait" in done, done

    after = await scan(db, TRACES)
    assert after.found == [], "\n".join(after.found)
    assert after.tables >= 25 and after.columns >= 200, (after.tables, after.columns)
    print(f"scanned {after.tables} tables, {after.columns} columns, {after.rows} rows, {after.cells} cells")

    if db.is_sqlite:  # nor in the file's free space once the log is folded in
        async with db.engine.connect() as conn:
            await conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        raw = await asyncio.to_thread(Path(make_url(db.url).database or "").read_bytes)
        assert all(w.encode() not in raw for w in (ZOE, "Quillardeau", "syndicaliste", "zythologie"))

    # What was shared for the network stays, without her: Bob's signal, the feed's.
    answer = bodies(await say(d, BOB, "!signaux"))
    assert "Les nappes baissent" in answer
    assert ("Les caves se vident" in answer) is keep_signals
    assert "1 membre" not in bodies(await say(d, BOB, "!annuaire zythologie"))
