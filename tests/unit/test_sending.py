"""The sender against a scripted client: order, rate limits, outages, poison messages."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from bot.client import SendResult, TransientError
from bot.sending import MAX_ANSWERED_ERRORS, Sender
from storage.db import Database
from storage.models.runtime import OutboxMessage, SentEvent


class ScriptedClient:
    """Answers each send with the next scripted outcome (then success)."""

    def __init__(self, script: list[Any]) -> None:
        self.script = script
        self.calls: list[tuple[str, str]] = []  # (body, txn_id)
        self.nio = type("N", (), {"rooms": {}})()
        self.direct_rooms: set[str] = set()

    async def send(self, room_id: str, event_type: str, content: dict[str, Any], txn_id: str) -> SendResult:
        self.calls.append((content.get("body", ""), txn_id))
        outcome = self.script.pop(0) if self.script else "ok"
        if isinstance(outcome, Exception):
            raise outcome
        if isinstance(outcome, SendResult):
            return outcome
        return SendResult(event_id=f"$ev{len(self.calls)}")


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'sender.db'}")
    await database.migrate()
    yield database
    await database.dispose()


async def _queue(db: Database, *bodies: str, tag: str | None = None) -> None:
    async with db.unit() as repos:
        for body in bodies:
            await repos.outbox.enqueue(
                event_type="m.room.message",
                content={"msgtype": "m.notice", "body": body},
                room_id="!r:x",
                tag=tag,
            )
        await repos.commit()


async def _run_until_sent(sender: Sender, db: Database, timeout: float = 10) -> list[OutboxMessage]:
    task = asyncio.create_task(sender.run())
    try:
        async with asyncio.timeout(timeout):
            while True:
                async with db.unit() as repos:
                    rows = list(await repos.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))
                if all(r.status != "pending" for r in rows):
                    return rows
                await asyncio.sleep(0.02)
    finally:
        task.cancel()


async def test_rate_limit_is_waited_out_and_order_kept(db: Database) -> None:
    client = ScriptedClient([SendResult(retry_after_ms=30)])
    await _queue(db, "un", "deux", "trois", tag="signal:1")
    sender = Sender(db, client)  # type: ignore[arg-type]
    rows = await _run_until_sent(sender, db)
    assert [b for b, _ in client.calls] == ["un", "un", "deux", "trois"]
    assert client.calls[0][1] == client.calls[1][1]  # the retry reuses the transaction id
    assert [r.status for r in rows] == ["sent"] * 3
    assert sender.rate_limited == 1
    async with db.unit() as repos:
        tags = list(await repos.session.scalars(select(SentEvent.tag)))
    assert tags == ["signal:1"] * 3
    assert all(r.content == {} for r in rows)  # payload dropped once delivered


async def test_outage_loses_nothing(db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    client = ScriptedClient([TransientError("connection refused")] * 3)
    await _queue(db, "un", "deux")
    sender = Sender(db, client)  # type: ignore[arg-type]
    monkeypatch.setattr(sender, "_sleep", lambda s: asyncio.sleep(0))
    rows = await _run_until_sent(sender, db)
    assert [r.status for r in rows] == ["sent", "sent"]
    assert [b for b, _ in client.calls] == ["un"] * 4 + ["deux"]


async def test_a_message_the_server_keeps_refusing_does_not_block_the_next(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = ScriptedClient([TransientError("HTTP 500", answered=True)] * MAX_ANSWERED_ERRORS)
    await _queue(db, "empoisonné", "suivant")
    sender = Sender(db, client)  # type: ignore[arg-type]
    monkeypatch.setattr(sender, "_sleep", lambda s: asyncio.sleep(0))
    rows = await _run_until_sent(sender, db)
    assert [r.status for r in rows] == ["failed", "sent"]


async def test_permanent_refusal_is_recorded(db: Database) -> None:
    client = ScriptedClient([SendResult(permanent_error="M_FORBIDDEN")])
    await _queue(db, "interdit", "ok")
    rows = await _run_until_sent(Sender(db, client), db)  # type: ignore[arg-type]
    assert [r.status for r in rows] == ["failed", "sent"]
    assert rows[0].last_error == "M_FORBIDDEN"


async def test_rows_handed_over_are_sent_without_reading_the_outbox_back(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    from storage.repositories.outbox import OutboxRepository

    reads = 0
    original = OutboxRepository.due

    async def counting_due(self: OutboxRepository, now: Any, limit: int = 20) -> Any:
        nonlocal reads
        reads += 1
        return await original(self, now, limit)

    monkeypatch.setattr(OutboxRepository, "due", counting_due)
    client = ScriptedClient([])
    sender = Sender(db, client)  # type: ignore[arg-type]
    task = asyncio.create_task(sender.run())
    try:
        while not sender._outbox_empty:
            await asyncio.sleep(0.01)  # the first read finds the outbox empty
        async with db.unit() as repos:
            for body in ("un", "deux"):
                await repos.outbox.enqueue(
                    event_type="m.room.message", content={"body": body}, room_id="!r:x"
                )
            await repos.commit()
            handed = list(repos.outbox.created)
        sender.hand_over(handed)
        async with asyncio.timeout(5):
            while len(client.calls) < 2:
                await asyncio.sleep(0.01)
        assert [b for b, _ in client.calls] == ["un", "deux"]
        assert reads == 1

        # A row queued elsewhere (a job: wake only) and then a handed one: both, in order.
        await _queue(db, "trois")
        sender.wake()
        async with db.unit() as repos:
            await repos.outbox.enqueue(
                event_type="m.room.message", content={"body": "quatre"}, room_id="!r:x"
            )
            await repos.commit()
            handed = list(repos.outbox.created)
        sender.hand_over(handed)
        async with asyncio.timeout(5):
            while len(client.calls) < 4:
                await asyncio.sleep(0.01)
        await asyncio.sleep(0.1)
        assert [b for b, _ in client.calls] == ["un", "deux", "trois", "quatre"]
    finally:
        task.cancel()


class SlowClient(ScriptedClient):
    """Every send takes a while, as when the homeserver limits the bot's rate."""

    def __init__(self, on_send: Any = None) -> None:
        super().__init__([])
        self.rooms: list[str] = []
        self.on_send = on_send

    async def send(self, room_id: str, event_type: str, content: dict[str, Any], txn_id: str) -> SendResult:
        self.rooms.append(room_id)
        await asyncio.sleep(0.02)
        if self.on_send is not None:
            await self.on_send(len(self.rooms))
        return await super().send(room_id, event_type, content, txn_id)


async def _queue_in(db: Database, room_id: str, *bodies: str) -> None:
    async with db.unit() as repos:
        for body in bodies:
            await repos.outbox.enqueue(
                event_type="m.room.message", content={"msgtype": "m.notice", "body": body}, room_id=room_id
            )
        await repos.commit()


async def test_rooms_take_turns_so_a_flood_in_one_room_delays_no_other(db: Database) -> None:
    await _queue_in(db, "!flood:x", *(f"pong {i}" for i in range(30)))
    await _queue_in(db, "!calm:x", "pong calme")
    client = SlowClient()
    await _run_until_sent(Sender(db, client), db)  # type: ignore[arg-type]
    assert client.rooms.index("!calm:x") == 1  # right after the flood's first message
    assert [b for b, _ in client.calls if b != "pong calme"] == [f"pong {i}" for i in range(30)]  # in order


async def test_a_message_queued_during_a_flood_is_sent_next(db: Database) -> None:
    await _queue_in(db, "!flood:x", *(f"pong {i}" for i in range(30)))
    sender: Sender

    async def meanwhile(sent: int) -> None:
        if sent == 3:  # the flood is being sent: another member's answer is queued
            await _queue_in(db, "!calm:x", "pong calme")
            sender.wake()

    client = SlowClient(meanwhile)
    sender = Sender(db, client)  # type: ignore[arg-type]
    await _run_until_sent(sender, db)
    assert client.rooms.index("!calm:x") <= 4
    assert [b for b, _ in client.calls if b != "pong calme"] == [f"pong {i}" for i in range(30)]
