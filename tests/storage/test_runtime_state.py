"""The runtime's own tables (inbox, bot state, outbox), on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

from storage.db import Database


def _event(event_id: str, body: str = "!ping") -> dict[str, Any]:
    return {
        "event_id": event_id,
        "room_id": "!room:test",
        "sender": "@alice:test",
        "type": "m.room.message",
        "origin_server_ts": 1,
        "content": {"msgtype": "m.text", "body": body},
    }


async def test_inbox_stores_each_event_once(db: Database) -> None:
    async with db.unit() as repos:
        new = await repos.inbox.add_many([_event("$a"), _event("$b"), _event("$a")])
        await repos.commit()
    assert new == ["$a", "$b"]

    async with db.unit() as repos:
        new = await repos.inbox.add_many([_event("$b", "again"), _event("$c")])
        await repos.commit()
    assert new == ["$c"]

    async with db.unit() as repos:
        assert await repos.inbox.add_many([]) == []
        pending = await repos.inbox.pending()
    assert [(r.event_id, r.payload["content"]["body"]) for r in pending] == [
        ("$a", "!ping"),
        ("$b", "!ping"),  # the first copy stays
        ("$c", "!ping"),
    ]


async def test_bot_state_set_inserts_then_replaces(db: Database) -> None:
    async with db.unit() as repos:
        assert await repos.state.get("sync.next_batch") is None
        await repos.state.set("sync.next_batch", "s1")
        await repos.state.set("other", "x")
        await repos.commit()
    async with db.unit() as repos:
        await repos.state.set("sync.next_batch", "s2")
        await repos.commit()
    async with db.unit() as repos:
        await repos.state.set("sync.next_batch", "s3")  # not committed
    async with db.unit() as repos:
        assert await repos.state.get("sync.next_batch") == "s2"
        assert await repos.state.get("other") == "x"


async def test_inbox_without_insert_returning(db: Database, monkeypatch: Any) -> None:
    """Old SQLite (< 3.35) cannot return rows from an INSERT: the two-statement path."""
    monkeypatch.setattr(db.engine.dialect, "insert_returning", False)
    async with db.unit() as repos:
        assert await repos.inbox.add_many([_event("$a"), _event("$a")]) == ["$a"]
        await repos.commit()
    async with db.unit() as repos:
        assert await repos.inbox.add_many([_event("$a"), _event("$b")]) == ["$b"]
        await repos.commit()


async def test_claim_marks_a_pending_event_done_once(db: Database) -> None:
    async with db.unit() as repos:
        await repos.inbox.add_many([_event("$a")])
        await repos.commit()
    async with db.unit() as repos:
        assert await repos.inbox.claim("$a")
        await repos.rollback()  # a failed handler: still pending
    async with db.unit() as repos:
        assert await repos.inbox.claim("$a")
        await repos.commit()
    async with db.unit() as repos:
        assert not await repos.inbox.claim("$a")  # a second run of the same event
        assert not await repos.inbox.claim("$unknown")
        assert await repos.inbox.is_done("$a")
        assert await repos.inbox.pending() == []


async def _sent(db: Database, tag: str | None) -> tuple[Any, Any]:
    async with db.unit() as repos:
        row = await repos.outbox.enqueue(
            event_type="m.room.message", content={"body": "secret"}, room_id="!room:test", tag=tag
        )
        await repos.commit()
    assert row is not None
    async with db.unit() as repos:
        await repos.outbox.mark_sent(row.id, f"$sent{row.id}", "!room:test")
        await repos.commit()
    async with db.unit() as repos:
        sent = await repos.outbox.get(row.id)
        tag_found = await repos.outbox.tag_for_event(f"$sent{row.id}")
    return sent, tag_found


async def test_mark_sent_keeps_the_tag_and_drops_the_payload(db: Database, monkeypatch: Any) -> None:
    sent, tag = await _sent(db, "signal:1")
    assert (sent.status, sent.event_id, sent.content, tag) == ("sent", f"$sent{sent.id}", {}, "signal:1")
    sent, tag = await _sent(db, None)
    assert (sent.status, sent.content, tag) == ("sent", {}, None)
    monkeypatch.setattr(db.engine.dialect, "update_returning", False)  # SQLite < 3.35
    sent, tag = await _sent(db, "signal:2")
    assert (sent.status, sent.content, tag) == ("sent", {}, "signal:2")
    async with db.unit() as repos:
        assert await repos.outbox.pending_count() == 0
