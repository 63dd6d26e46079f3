"""The runtime's repositories on SQLite and PostgreSQL: bot state, member settings, the
inbox, the outbox, direct rooms and conversations."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError, StatementError

from storage.base import utcnow
from storage.db import Database
from storage.models.runtime import BotState, Conversation, InboxEvent, OutboxMessage, SentEvent

ROOM = "!room:example.org"
ALICE = "@alice:example.org"
BOB = "@bob:example.org"


def event(n: int, *, sender: str = ALICE, room: str = ROOM, **content: Any) -> dict[str, Any]:
    return {
        "type": "m.room.message",
        "event_id": f"$e{n}",
        "room_id": room,
        "sender": sender,
        "origin_server_ts": 1_700_000_000_000 + n,
        "content": {"msgtype": "m.text", "body": f"!ping {n}", **content},
    }


# --- bot state --------------------------------------------------------------------


async def test_bot_state(db: Database) -> None:
    async with db.unit() as repos:
        assert await repos.state.get("sync.next_batch") is None
        await repos.state.set("sync.next_batch", "s1")
        await repos.commit()
    async with db.unit() as repos:
        assert await repos.state.get("sync.next_batch") == "s1"
        await repos.state.set("sync.next_batch", "s2")
        await repos.state.set("device_id", "ABCDEF")
        await repos.commit()
    async with db.unit() as repos:
        assert await repos.state.get("sync.next_batch") == "s2"
        assert await repos.state.get("device_id") == "ABCDEF"
        await repos.state.delete("device_id")
        await repos.commit()
    async with db.unit() as repos:
        assert await repos.state.get("device_id") is None
        assert await repos.state.get("sync.next_batch") == "s2"


async def test_uncommitted_work_is_rolled_back(db: Database) -> None:
    async with db.unit() as repos:
        await repos.state.set("k", "v")
    with pytest.raises(RuntimeError):
        async with db.unit() as repos:
            await repos.state.set("k2", "v")
            await repos.session.flush()
            raise RuntimeError
    async with db.unit() as repos:
        assert await repos.state.get("k") is None
        assert await repos.state.get("k2") is None


async def test_bot_state_updated_at_moves(db: Database) -> None:
    async with db.unit() as repos:
        await repos.state.set("k", "1")
        await repos.commit()
        row = await repos.session.get(BotState, "k")
        assert row is not None
        first = row.updated_at
    async with db.unit() as repos:
        await repos.state.set("k", "2")
        await repos.commit()
        row = await repos.session.get(BotState, "k")
        assert row is not None and row.updated_at >= first


# --- settings ---------------------------------------------------------------------


async def test_member_language(db: Database) -> None:
    async with db.unit() as repos:
        assert await repos.settings.language(ALICE) is None
        assert await repos.settings.get(ALICE) is None
        await repos.settings.set_language(ALICE, "en")
        await repos.commit()
    async with db.unit() as repos:
        assert await repos.settings.language(ALICE) == "en"
        assert await repos.settings.language(BOB) is None
        await repos.settings.set_language(ALICE, "fr")
        await repos.commit()
    async with db.unit() as repos:
        assert await repos.settings.language(ALICE) == "fr"
        assert await repos.settings.erase(ALICE) == 1
        assert await repos.settings.erase(ALICE) == 0
        await repos.commit()
    async with db.unit() as repos:
        assert await repos.settings.language(ALICE) is None


# --- inbox ------------------------------------------------------------------------


async def test_inbox_add_many_ignores_duplicates(db: Database) -> None:
    async with db.unit() as repos:
        assert await repos.inbox.add_many([]) == []
        assert await repos.inbox.add_many([event(1), event(2), event(1)]) == ["$e1", "$e2"]
        await repos.commit()
    async with db.unit() as repos:
        # Already stored (a retried sync, a back-fill overlapping the timeline).
        assert await repos.inbox.add_many([event(2), event(3)]) == ["$e3"]
        assert await repos.inbox.add_many([event(1)]) == []
        await repos.commit()
    async with db.unit() as repos:
        rows = await repos.inbox.pending()
    assert [r.event_id for r in rows] == ["$e1", "$e2", "$e3"]


async def test_inbox_row_content(db: Database) -> None:
    ev = event(1, body="!signal « café » ☕", extra={"nested": [1, {"a": None}]})
    async with db.unit() as repos:
        await repos.inbox.add_many([ev])
        await repos.commit()
    async with db.unit() as repos:
        row = await repos.inbox.get("$e1")
    assert row is not None
    assert (row.room_id, row.sender, row.event_type) == (ROOM, ALICE, "m.room.message")
    assert row.origin_ts == 1_700_000_000_001
    assert row.payload == ev
    assert row.done is False
    assert row.received_at.tzinfo is not None


async def test_inbox_pending_in_arrival_order_and_mark_done(db: Database) -> None:
    async with db.unit() as repos:
        await repos.inbox.add_many([event(3), event(1)])
        await repos.inbox.add_many([event(2)])
        await repos.commit()
    async with db.unit() as repos:
        assert [r.event_id for r in await repos.inbox.pending()] == ["$e3", "$e1", "$e2"]
        assert [r.event_id for r in await repos.inbox.pending(limit=2)] == ["$e3", "$e1"]
        assert not await repos.inbox.is_done("$e1")
        await repos.inbox.mark_done("$e1")
        await repos.commit()
    async with db.unit() as repos:
        assert await repos.inbox.is_done("$e1")
        assert not await repos.inbox.is_done("$unknown")
        assert [r.event_id for r in await repos.inbox.pending()] == ["$e3", "$e2"]


async def test_inbox_prune_forgets_old_handled_events_only(db: Database) -> None:
    async with db.unit() as repos:
        await repos.inbox.add_many([event(1), event(2), event(3)])
        await repos.inbox.mark_done("$e1")
        await repos.inbox.mark_done("$e2")
        old = utcnow() - timedelta(days=8)
        await repos.session.execute(
            update(InboxEvent).where(InboxEvent.event_id.in_(["$e1", "$e3"])).values(received_at=old)
        )
        await repos.commit()
    async with db.unit() as repos:
        assert await repos.inbox.prune(timedelta(days=7)) == 1
        await repos.commit()
    async with db.unit() as repos:
        assert await repos.inbox.get("$e1") is None  # old and handled
        assert await repos.inbox.get("$e2") is not None  # handled but recent
        assert await repos.inbox.get("$e3") is not None  # old but never handled


async def test_inbox_claim_keeps_only_the_event_id(db: Database) -> None:
    async with db.unit() as repos:
        await repos.inbox.add_many([event(1, body="!profil presentation syndicaliste")])
        await repos.commit()
    async with db.unit() as repos:
        assert await repos.inbox.claim("$e1")
        await repos.commit()
    async with db.unit() as repos:
        row = await repos.inbox.get("$e1")
        assert row is not None and row.done
        assert (row.sender, row.payload) == ("", {})  # who and what: gone once handled
        assert not await repos.inbox.claim("$e1")  # and still handled once


async def test_inbox_erase_user(db: Database) -> None:
    async with db.unit() as repos:
        await repos.inbox.add_many([event(1), event(2, sender=BOB), event(3)])
        await repos.inbox.mark_done("$e1")  # handled by an older version: text still kept
        await repos.inbox.mark_done("$e2")
        await repos.commit()
    async with db.unit() as repos:
        assert [e.event_id for e in await repos.inbox.kept_for(ALICE)] == ["$e3"]
        assert await repos.inbox.erase_user(ALICE) == 1  # pending ones stay, to be handled
        await repos.commit()
    async with db.unit() as repos:
        e1, e2, e3 = [await repos.inbox.get(f"$e{n}") for n in (1, 2, 3)]
        assert e1 is not None and (e1.sender, e1.payload, e1.done) == ("", {}, True)
        assert e2 is not None and e2.sender == BOB
        assert e3 is not None and e3.sender == ALICE and not e3.done


# --- outbox -----------------------------------------------------------------------


async def _enqueue(db: Database, **kw: Any) -> int:
    """Queue one message (committed); its id."""
    found = await _try_enqueue(db, **kw)
    assert found is not None
    return found


async def _try_enqueue(db: Database, **kw: Any) -> int | None:
    kw.setdefault("event_type", "m.room.message")
    kw.setdefault("content", {"msgtype": "m.notice", "body": "x"})
    if "dm_user" not in kw:
        kw.setdefault("room_id", ROOM)
    async with db.unit() as repos:
        row = await repos.outbox.enqueue(**kw)
        await repos.commit()
        return row.id if row is not None else None


async def test_outbox_enqueue(db: Database) -> None:
    content = {"msgtype": "m.notice", "body": "Bonjour « toi »", "m.mentions": {}}
    first = await _enqueue(db, content=content, tag="signal:1")
    second = await _enqueue(db, dm_user=BOB)
    assert first is not None and second is not None
    async with db.unit() as repos:
        a, b = await repos.outbox.get(first), await repos.outbox.get(second)
    assert a is not None and b is not None
    assert a.content == content
    assert (a.room_id, a.dm_user, a.tag, a.status, a.attempts) == (ROOM, None, "signal:1", "pending", 0)
    assert (b.room_id, b.dm_user) == (None, BOB)
    assert a.txn_id.startswith("oasis.") and a.txn_id != b.txn_id
    assert a.created_at.tzinfo is not None


async def test_outbox_needs_a_target(db: Database) -> None:
    async with db.unit() as repos:
        with pytest.raises(ValueError):
            await repos.outbox.enqueue(event_type="m.room.message", content={})


async def test_outbox_dedup_key_is_unique_forever(db: Database) -> None:
    assert await _try_enqueue(db, dedup_key="digest:2026-W48:!room") is not None
    assert await _try_enqueue(db, dedup_key="digest:2026-W48:!room") is None
    async with db.unit() as repos:
        (row,) = await repos.outbox.due(utcnow())
        await repos.outbox.mark_sent(row.id, "$sent", ROOM)
        await repos.commit()
    assert await _try_enqueue(db, dedup_key="digest:2026-W48:!room") is None  # even once sent
    assert await _try_enqueue(db, dedup_key="digest:2026-W49:!room") is not None
    async with db.unit() as repos:
        assert await repos.outbox.exists("digest:2026-W48:!room")
        assert not await repos.outbox.exists("digest:2026-W50:!room")


async def test_outbox_dedup_within_one_unit(db: Database) -> None:
    async with db.unit() as repos:
        first = await repos.outbox.enqueue(
            event_type="m.room.message", content={}, room_id=ROOM, dedup_key="k"
        )
        again = await repos.outbox.enqueue(
            event_type="m.room.message", content={}, room_id=ROOM, dedup_key="k"
        )
        await repos.commit()
    assert first is not None and again is None
    async with db.unit() as repos:
        assert await repos.outbox.pending_count() == 1


async def test_outbox_dedup_key_unique_in_the_database(db: Database) -> None:
    await _enqueue(db, dedup_key="k")
    async with db.unit() as repos:
        repos.session.add(
            OutboxMessage(
                txn_id="oasis.other",
                dedup_key="k",
                room_id=ROOM,
                event_type="m.room.message",
                content={},
                status="pending",
                attempts=0,
            )
        )
        with pytest.raises(IntegrityError):
            await repos.session.flush()


async def test_outbox_due_in_order_and_not_before(db: Database) -> None:
    now = utcnow()
    later = await _enqueue(db, not_before=now + timedelta(minutes=5))
    first = await _enqueue(db)
    ready = await _enqueue(db, not_before=now - timedelta(seconds=1))
    last = await _enqueue(db)
    async with db.unit() as repos:
        assert [r.id for r in await repos.outbox.due(now)] == [first, ready, last]
        assert [r.id for r in await repos.outbox.due(now, limit=2)] == [first, ready]
        assert [r.id for r in await repos.outbox.due(now + timedelta(minutes=6))] == [
            later,
            first,
            ready,
            last,
        ]
        assert await repos.outbox.pending_count() == 4
        wake = await repos.outbox.next_wakeup()
    assert wake is not None and wake.tzinfo is not None
    assert abs(wake - (now - timedelta(seconds=1))) < timedelta(milliseconds=1)


async def test_outbox_not_before_compares_instants_across_zones(db: Database) -> None:
    # 10:00 in Paris (winter) is 09:00 UTC.
    paris = datetime(2025, 12, 1, 10, 0, tzinfo=ZoneInfo("Europe/Paris"))
    message = await _enqueue(db, not_before=paris)
    async with db.unit() as repos:
        assert await repos.outbox.due(datetime(2025, 12, 1, 8, 59, tzinfo=UTC)) == []
        assert [r.id for r in await repos.outbox.due(datetime(2025, 12, 1, 9, 0, tzinfo=UTC))] == [message]


async def test_outbox_mark_sent(db: Database) -> None:
    tagged = await _enqueue(db, tag="signal:42", content={"body": "données personnelles"})
    to_bob = await _enqueue(db, dm_user=BOB, attachment=b"\x00export", attachment_name="x.json")
    assert tagged is not None and to_bob is not None
    async with db.unit() as repos:
        await repos.outbox.mark_sent(tagged, "$a", ROOM)
        await repos.outbox.mark_sent(to_bob, "$b", "!dm:example.org")
        await repos.outbox.mark_sent(999_999, "$nothing", ROOM)  # unknown: ignored
        await repos.commit()
    async with db.unit() as repos:
        a, b = await repos.outbox.get(tagged), await repos.outbox.get(to_bob)
        assert a is not None and b is not None
        assert (a.status, a.event_id, a.content) == ("sent", "$a", {})  # payload cleared
        assert a.sent_at is not None and a.sent_at.tzinfo is not None
        assert (b.status, b.room_id, b.attachment, b.dm_user) == ("sent", "!dm:example.org", None, None)
        assert await repos.outbox.tag_for_event("$a") == "signal:42"
        assert await repos.outbox.tag_for_event("$b") is None  # untagged: not recorded
        (sent,) = await repos.outbox.events_for_tag("signal:42")
        assert (sent.event_id, sent.room_id) == ("$a", ROOM)
        assert await repos.outbox.due(utcnow()) == []
        assert await repos.outbox.pending_count() == 0
        assert len((await repos.session.scalars(select(SentEvent))).all()) == 1


async def test_outbox_mark_failed_and_postpone(db: Database) -> None:
    failing = await _enqueue(db, attachment=b"data", dm_user=ALICE, content={"body": "Zoé, votre profil"})
    waiting = await _enqueue(db)
    assert failing is not None and waiting is not None
    until = utcnow() + timedelta(minutes=1)
    async with db.unit() as repos:
        await repos.outbox.mark_failed(failing, "M_FORBIDDEN " + "x" * 5000)
        await repos.outbox.postpone(waiting, until, "M_LIMIT_EXCEEDED")
        await repos.outbox.postpone(waiting, until, "M_LIMIT_EXCEEDED")
        await repos.commit()
    async with db.unit() as repos:
        f, w = await repos.outbox.get(failing), await repos.outbox.get(waiting)
        assert f is not None and w is not None
        assert f.status == "failed" and f.attachment is None
        assert (f.content, f.dm_user) == ({}, None)  # its text and its addressee: gone
        assert f.last_error is not None and len(f.last_error) == 2000
        assert (w.status, w.attempts, w.last_error) == ("pending", 2, "M_LIMIT_EXCEEDED")
        assert w.not_before == until
        assert await repos.outbox.due(utcnow()) == []


async def test_outbox_fail_room(db: Database) -> None:
    here = await _enqueue(db)
    also_here = await _enqueue(db)
    elsewhere = await _enqueue(db, room_id="!other:example.org")
    dm = await _enqueue(db, dm_user=ALICE)
    async with db.unit() as repos:
        await repos.outbox.mark_sent(also_here, "$s", ROOM)  # already sent: untouched
        await repos.commit()
    async with db.unit() as repos:
        assert await repos.outbox.fail_room(ROOM, "kicked") == 1
        await repos.commit()
    async with db.unit() as repos:
        rows = {i: await repos.outbox.get(i) for i in (here, also_here, elsewhere, dm)}
    statuses = {i: row.status for i, row in rows.items() if row is not None}
    row = rows[here]
    assert statuses == {here: "failed", also_here: "sent", elsewhere: "pending", dm: "pending"}
    assert row is not None and row.last_error == "kicked" and row.content == {}


async def test_outbox_prune(db: Database) -> None:
    sent_old = await _enqueue(db)
    failed_old = await _enqueue(db)
    sent_recent = await _enqueue(db)
    pending_old = await _enqueue(db)
    dedup_old = await _enqueue(db, dedup_key="digest:2026-W01")
    dedup_older = await _enqueue(db, dedup_key="digest:2025-W01")
    async with db.unit() as repos:
        for i in (sent_old, sent_recent, dedup_old, dedup_older):
            await repos.outbox.mark_sent(i, f"$s{i}", ROOM)
        await repos.outbox.mark_failed(failed_old, "gone")
        await repos.session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id.in_([sent_old, failed_old, pending_old, dedup_old]))
            .values(created_at=utcnow() - timedelta(days=8))
        )
        await repos.session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == dedup_older)
            .values(created_at=utcnow() - timedelta(days=401))
        )
        await repos.commit()
    async with db.unit() as repos:
        assert await repos.outbox.prune(timedelta(days=7), timedelta(days=400)) == 3
        await repos.commit()
    async with db.unit() as repos:
        left = set((await repos.session.scalars(select(OutboxMessage.id))).all())
        assert left == {sent_recent, pending_old, dedup_old}
        assert await repos.outbox.exists("digest:2026-W01")  # a dedup key outlives the others
        assert not await repos.outbox.exists("digest:2025-W01")  # but not forever


async def test_outbox_erase_dm_user(db: Database) -> None:
    sent = await _enqueue(db, dm_user=ALICE)
    legacy = await _enqueue(db, dm_user=ALICE)
    pending = await _enqueue(db, dm_user=ALICE)
    other = await _enqueue(db, dm_user=BOB)
    reminder = await _enqueue(db, room_id=ROOM, dedup_key=f"sondage:3:reminder:{ALICE}")
    bobs = await _enqueue(db, room_id=ROOM, dedup_key=f"sondage:3:reminder:{BOB}")
    async with db.unit() as repos:
        for i in (sent, legacy, other, reminder, bobs):
            await repos.outbox.mark_sent(i, f"$s{i}", "!dm:x")
        # Sent by an older version, which kept whom it was for.
        await repos.session.execute(
            update(OutboxMessage).where(OutboxMessage.id == legacy).values(dm_user=ALICE)
        )
        await repos.commit()
    async with db.unit() as repos:
        assert await repos.outbox.erase_dm_user(ALICE) == 2
        await repos.commit()
    async with db.unit() as repos:
        assert await repos.outbox.get(legacy) is None
        assert await repos.outbox.get(reminder) is None
        for kept in (sent, pending, other, bobs):
            assert await repos.outbox.get(kept) is not None


# --- direct rooms -----------------------------------------------------------------


async def test_direct_rooms(db: Database) -> None:
    async with db.unit() as repos:
        assert await repos.direct.room_for(ALICE) is None
        await repos.direct.set(ALICE, "!dm1:x")
        await repos.direct.set(BOB, "!dm2:x")
        await repos.commit()
    async with db.unit() as repos:
        assert await repos.direct.room_for(ALICE) == "!dm1:x"
        assert await repos.direct.user_for("!dm2:x") == BOB
        assert await repos.direct.user_for("!nope:x") is None
        await repos.direct.set(ALICE, "!dm3:x")  # a new DM replaces the old one
        await repos.commit()
    async with db.unit() as repos:
        assert await repos.direct.room_for(ALICE) == "!dm3:x"
        assert await repos.direct.user_for("!dm1:x") is None
        await repos.direct.forget_room("!dm3:x")
        assert await repos.direct.forget_user(BOB) == 1
        assert await repos.direct.forget_user(BOB) == 0
        await repos.commit()
    async with db.unit() as repos:
        assert await repos.direct.room_for(ALICE) is None
        assert await repos.direct.room_for(BOB) is None


# --- conversations ----------------------------------------------------------------


async def test_conversations(db: Database) -> None:
    async with db.unit() as repos:
        assert await repos.conversations.get(ALICE) is None
        row = await repos.conversations.start(ALICE, "!dm:x", "profil.onboarding", {"source": "join"})
        assert row.step == 0
        await repos.commit()
    async with db.unit() as repos:
        saved = await repos.conversations.get(ALICE)
        assert saved is not None
        row = saved
        assert (row.form, row.step, row.room_id, row.data) == (
            "profil.onboarding",
            0,
            "!dm:x",
            {"source": "join"},
        )
        assert row.started_at.tzinfo is not None
        data = dict(row.data)
        data["structure"] = "Métropole de Lyon"
        data["tags"] = ["évaluation", "climat"]
        await repos.conversations.save(row, 2, data)
        await repos.commit()
    async with db.unit() as repos:
        again = await repos.conversations.get(ALICE)
        assert again is not None and again.step == 2
        assert again.data == {
            "source": "join",
            "structure": "Métropole de Lyon",
            "tags": ["évaluation", "climat"],
        }


async def test_conversation_start_replaces_the_running_one(db: Database) -> None:
    async with db.unit() as repos:
        first = await repos.conversations.start(ALICE, "!dm:x", "a", {"x": 1})
        await repos.conversations.save(first, 3, {"x": 2})
        await repos.commit()
    async with db.unit() as repos:
        await repos.conversations.start(ALICE, "!dm:x", "b", {})
        await repos.commit()
    async with db.unit() as repos:
        row = await repos.conversations.get(ALICE)
        assert row is not None and (row.form, row.step, row.data) == ("b", 0, {})
        count = len((await repos.session.scalars(select(Conversation))).all())
        assert count == 1


async def test_conversation_end(db: Database) -> None:
    async with db.unit() as repos:
        await repos.conversations.start(ALICE, "", "a", {})
        await repos.conversations.start(BOB, "", "a", {})
        await repos.commit()
    async with db.unit() as repos:
        assert await repos.conversations.end(ALICE) == 1
        assert await repos.conversations.end(ALICE) == 0
        await repos.commit()
    async with db.unit() as repos:
        assert await repos.conversations.get(ALICE) is None
        assert await repos.conversations.get(BOB) is not None


# --- datetimes --------------------------------------------------------------------


@pytest.mark.parametrize(
    "moment",
    [
        datetime(2026, 3, 29, 1, 30, 15, 123456, tzinfo=UTC),
        datetime(2026, 3, 29, 3, 30, tzinfo=ZoneInfo("Europe/Paris")),  # just after the change
        datetime(2026, 10, 25, 2, 30, fold=1, tzinfo=ZoneInfo("Europe/Paris")),  # second 2:30
        datetime(2026, 7, 1, 23, 0, tzinfo=ZoneInfo("America/Montreal")),
    ],
)
async def test_aware_datetimes_round_trip_as_utc(db: Database, moment: datetime) -> None:
    message = await _enqueue(db, not_before=moment)
    async with db.unit() as repos:
        stored = await repos.session.scalar(
            select(OutboxMessage.not_before).where(OutboxMessage.id == message)
        )
    assert stored is not None
    assert stored.utcoffset() == timedelta(0)
    # The same instant (compared by timestamp: Python never equates a fold=1 wall time
    # with a time in another zone).
    assert stored.timestamp() == moment.timestamp()
    assert stored.astimezone(UTC).replace(tzinfo=None) == moment.astimezone(UTC).replace(tzinfo=None)


async def test_naive_datetimes_are_refused(db: Database) -> None:
    async with db.unit() as repos:
        with pytest.raises(StatementError, match="naive datetime"):
            await repos.outbox.enqueue(
                event_type="m.room.message", content={}, room_id=ROOM, not_before=datetime(2026, 1, 1, 12, 0)
            )


async def test_utc_comparisons_in_queries(db: Database) -> None:
    async with db.unit() as repos:
        await repos.inbox.add_many([event(1)])
        await repos.commit()
    async with db.unit() as repos:
        recent = await repos.session.scalar(
            select(InboxEvent.event_id).where(InboxEvent.received_at > utcnow() - timedelta(minutes=1))
        )
        future = await repos.session.scalar(
            select(InboxEvent.event_id).where(InboxEvent.received_at > utcnow() + timedelta(minutes=1))
        )
    assert recent == "$e1"
    assert future is None


async def test_outbox_dedup_key_race_between_two_units(db: Database) -> None:
    """A job and a command queue the same post at the same time: one wins, the other's
    unit still commits, nothing is posted twice."""
    import asyncio

    kw = {
        "event_type": "m.room.message",
        "content": {"body": "digest"},
        "room_id": ROOM,
        "dedup_key": "digest:W48",
    }
    async with db.unit() as a, db.unit() as b:
        first = await a.outbox.enqueue(**kw)  # type: ignore[arg-type]
        racing = asyncio.create_task(b.outbox.enqueue(**kw))  # type: ignore[arg-type]
        await asyncio.sleep(0.2)
        await a.commit()
        second = await racing
        await b.commit()
    assert first is not None and second is None
    async with db.unit() as repos:
        assert await repos.outbox.pending_count() == 1
