"""The outbox: messages waiting to be sent, and which sent message stands for what."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.base import utcnow
from storage.models.runtime import OutboxMessage, SentEvent
from storage.repositories.base import Repository

# What a message keeps once it left or failed for good: not its text, its file or whom it
# was for (they may be personal data); the row stays a while as the guard of its
# transaction id and dedup key.
SPENT: dict[str, Any] = {"content": {}, "attachment": None, "dm_user": None}


class OutboxRepository(Repository):
    def __init__(self, session: AsyncSession) -> None:
        super().__init__(session)
        self.created: list[OutboxMessage] = []  # this unit's new rows, in order

    async def enqueue(
        self,
        *,
        event_type: str,
        content: dict[str, Any],
        room_id: str | None = None,
        dm_user: str | None = None,
        dedup_key: str | None = None,
        tag: str | None = None,
        attachment: bytes | None = None,
        attachment_name: str | None = None,
        attachment_mime: str | None = None,
        not_before: datetime | None = None,
    ) -> OutboxMessage | None:
        """Queue a message. With a `dedup_key` already queued (or sent), nothing is added
        and None is returned: that is how a scheduled post stays unique."""
        if room_id is None and dm_user is None:
            raise ValueError("a message needs a room or a person")
        values: dict[str, Any] = {
            "txn_id": f"oasis.{uuid.uuid4().hex}",
            "dedup_key": dedup_key,
            "room_id": room_id,
            "dm_user": dm_user,
            "event_type": event_type,
            "content": content,
            "tag": tag,
            "attachment": attachment,
            "attachment_name": attachment_name,
            "attachment_mime": attachment_mime,
            "not_before": not_before,
            "status": "pending",
            "attempts": 0,
            "created_at": utcnow(),
        }
        # One INSERT … RETURNING id (the id orders the sending), through Core: the ORM's
        # flush would do the same work and more. With a dedup key, ON CONFLICT DO
        # NOTHING: two units racing for the same key (a job and a command) cannot both
        # queue it, and the loser's unit still commits.
        insert = self._insert(OutboxMessage.__table__).values(**values)  # type: ignore[arg-type]
        if dedup_key is not None:
            insert = insert.on_conflict_do_nothing(index_elements=["dedup_key"])
        new_id = await self.session.scalar(insert.returning(OutboxMessage.id))
        if new_id is None:
            return None
        row = OutboxMessage(id=new_id, **values)  # what was written, for the sender
        self.created.append(row)
        return row

    async def exists(self, dedup_key: str) -> bool:
        found = await self.session.scalar(
            select(OutboxMessage.id).where(OutboxMessage.dedup_key == dedup_key)
        )
        return found is not None

    async def due(self, now: datetime, limit: int = 20) -> Sequence[OutboxMessage]:
        """Messages to send now, taken from the rooms in turn: each room's oldest, then
        each room's second… (in order within a room), so a room with many messages
        waiting does not hold up the others."""
        room = func.coalesce(OutboxMessage.room_id, OutboxMessage.dm_user)
        turn = func.row_number().over(partition_by=room, order_by=OutboxMessage.id).label("turn")
        waiting = (
            select(OutboxMessage.id, turn)
            .where(
                OutboxMessage.status == "pending",
                or_(OutboxMessage.not_before.is_(None), OutboxMessage.not_before <= now),
            )
            .subquery()
        )
        picked = (
            await self.session.execute(
                select(waiting.c.id, waiting.c.turn).order_by(waiting.c.turn, waiting.c.id).limit(limit)
            )
        ).all()
        if not picked:
            return []
        order = {row_id: i for i, (row_id, _) in enumerate(picked)}
        rows = await self.session.scalars(select(OutboxMessage).where(OutboxMessage.id.in_(list(order))))
        return sorted(rows.all(), key=lambda r: order[r.id])

    async def next_wakeup(self) -> datetime | None:
        return await self.session.scalar(
            select(func.min(OutboxMessage.not_before)).where(OutboxMessage.status == "pending")
        )

    async def pending_count(self) -> int:
        return int(
            await self.session.scalar(
                select(func.count()).select_from(OutboxMessage).where(OutboxMessage.status == "pending")
            )
            or 0
        )

    async def get(self, message_id: int) -> OutboxMessage | None:
        return await self.session.get(OutboxMessage, message_id)

    async def mark_sent(self, message_id: int, event_id: str, room_id: str) -> None:
        values: dict[str, Any] = {
            "status": "sent",
            "event_id": event_id,
            "room_id": room_id,
            "sent_at": utcnow(),
            **SPENT,
        }
        if self.session.get_bind().dialect.update_returning:  # one statement
            found = await self.session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id == message_id)
                .values(**values)
                .returning(OutboxMessage.tag)
                .execution_options(synchronize_session=False)
            )
            tag = found.scalar()
        else:  # SQLite < 3.35
            row = await self.session.get(OutboxMessage, message_id)
            if row is None:
                return
            for name, value in values.items():
                setattr(row, name, value)
            tag = row.tag
        if tag:
            self.session.add(SentEvent(event_id=event_id, room_id=room_id, tag=tag))

    async def mark_failed(self, message_id: int, error: str) -> None:
        await self.session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == message_id)
            .values(status="failed", last_error=error[:2000], **SPENT)
        )

    async def postpone(self, message_id: int, until: datetime, error: str) -> None:
        await self.session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == message_id)
            .values(
                not_before=until,
                attempts=OutboxMessage.attempts + 1,
                last_error=error[:2000],
            )
        )

    async def fail_room(self, room_id: str, error: str) -> int:
        """The bot left a room: what was waiting for it can no longer be sent."""
        result = await self.session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.room_id == room_id, OutboxMessage.status == "pending")
            .values(status="failed", last_error=error, **SPENT)
        )
        return int(getattr(result, "rowcount", 0) or 0)

    async def tag_for_event(self, event_id: str) -> str | None:
        return await self.session.scalar(select(SentEvent.tag).where(SentEvent.event_id == event_id))

    async def events_for_tag(self, tag: str) -> Sequence[SentEvent]:
        result = await self.session.scalars(select(SentEvent).where(SentEvent.tag == tag))
        return result.all()

    async def prune(self, older_than: timedelta, deduplicated_older_than: timedelta | None = None) -> int:
        """Forget what was sent or failed: after `older_than`, or for a post with a dedup
        key (unique for as long as its row lives) after `deduplicated_older_than`."""
        now = utcnow()
        done = OutboxMessage.status.in_(("sent", "failed"))
        old = (OutboxMessage.created_at < now - older_than) & OutboxMessage.dedup_key.is_(None)
        if deduplicated_older_than is not None:
            old = old | (OutboxMessage.created_at < now - deduplicated_older_than)
        result = await self.session.execute(delete(OutboxMessage).where(done, old))
        return int(getattr(result, "rowcount", 0) or 0)

    async def erase_dm_user(self, user_id: str) -> int:
        """Forget what was sent to a person: rows still addressed to them (from before
        `SPENT` was cleared on delivery) and rows whose dedup key names them (« a
        reminder to X »). Messages still waiting are delivered first."""
        names = OutboxMessage.dedup_key.contains(user_id, autoescape=True)
        result = await self.session.execute(
            delete(OutboxMessage).where(
                or_(OutboxMessage.dm_user == user_id, names), OutboxMessage.status != "pending"
            )
        )
        return int(getattr(result, "rowcount", 0) or 0)
