"""The outbox hands out due messages room by room in turn, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from storage.db import Database


async def test_due_messages_come_room_by_room_in_order_within_each(db: Database) -> None:
    async with db.unit() as repos:
        for i in range(5):
            await repos.outbox.enqueue(event_type="m.room.message", content={"body": f"a{i}"}, room_id="!a:x")
        await repos.outbox.enqueue(event_type="m.room.message", content={"body": "b0"}, room_id="!b:x")
        await repos.outbox.enqueue(event_type="m.room.message", content={"body": "c0"}, dm_user="@c:x")
        await repos.outbox.enqueue(event_type="m.room.message", content={"body": "b1"}, room_id="!b:x")
        later = datetime.now(UTC) + timedelta(hours=1)
        await repos.outbox.enqueue(
            event_type="m.room.message", content={"body": "b-later"}, room_id="!b:x", not_before=later
        )
        await repos.commit()
    async with db.unit() as repos:
        due = await repos.outbox.due(datetime.now(UTC))
        first_four = await repos.outbox.due(datetime.now(UTC), limit=4)
    assert [m.content["body"] for m in due] == ["a0", "b0", "c0", "a1", "b1", "a2", "a3", "a4"]
    assert [m.content["body"] for m in first_four] == ["a0", "b0", "c0", "a1"]
