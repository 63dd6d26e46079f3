"""The durable inbox: events received and not yet handled."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select, update

from storage.base import utcnow
from storage.models.runtime import InboxEvent
from storage.repositories.base import Repository

# What a handled event keeps of its sender and content: nothing.
FORGOTTEN: dict[str, Any] = {"sender": "", "payload": {}}


class InboxRepository(Repository):
    async def add_many(self, events: Sequence[dict[str, Any]]) -> list[str]:
        """Store new events (already-known event ids are ignored); returns the ids of
        the events that were new."""
        if not events:
            return []
        rows: dict[str, dict[str, Any]] = {}
        for e in events:
            rows.setdefault(
                e["event_id"],
                {
                    "event_id": e["event_id"],
                    "room_id": e["room_id"],
                    "sender": e.get("sender", ""),
                    "event_type": e.get("type", ""),
                    "payload": e,
                    "origin_ts": int(e.get("origin_server_ts", 0)),
                    "done": False,
                    "received_at": utcnow(),
                },
            )
        table = InboxEvent.__table__
        new = await self.insert_new(table, list(rows.values()), "event_id")  # type: ignore[arg-type]
        if new is not None:  # one statement: insert what is new, return its ids
            inserted = set(new)
            return [event_id for event_id in rows if event_id in inserted]
        known = set(
            await self.session.scalars(select(InboxEvent.event_id).where(InboxEvent.event_id.in_(rows)))
        )
        fresh = [row for event_id, row in rows.items() if event_id not in known]
        await self.insert_ignore(table, fresh, ["event_id"])  # type: ignore[arg-type]
        return [row["event_id"] for row in fresh]

    async def pending(self, limit: int = 1000) -> Sequence[InboxEvent]:
        result = await self.session.scalars(
            select(InboxEvent).where(InboxEvent.done.is_(False)).order_by(InboxEvent.id).limit(limit)
        )
        return result.all()

    async def get(self, event_id: str) -> InboxEvent | None:
        return await self.session.scalar(select(InboxEvent).where(InboxEvent.event_id == event_id))

    async def is_done(self, event_id: str) -> bool:
        done = await self.session.scalar(select(InboxEvent.done).where(InboxEvent.event_id == event_id))
        return bool(done)

    async def mark_done(self, event_id: str) -> None:
        await self.session.execute(
            update(InboxEvent).where(InboxEvent.event_id == event_id).values(done=True)
        )

    async def claim(self, event_id: str) -> bool:
        """Mark a pending event done; False if it was already done (or is unknown).
        One atomic statement: of two units handling the same event, only one can commit
        with a True claim. A handled event keeps only its id (the guard against handling
        it twice): who sent it and what it said are dropped with the claim."""
        result = await self.session.execute(
            update(InboxEvent)
            .where(InboxEvent.event_id == event_id, InboxEvent.done.is_(False))
            .values(done=True, **FORGOTTEN)
        )
        return int(getattr(result, "rowcount", 0) or 0) == 1

    async def forget_content(self, event_id: str) -> None:
        """Keep only what guards against handling the event twice, before the claim: for
        an event whose content must not stay even until then (an answer to an anonymous
        survey), or must not count as kept (the `!mes-donnees` being answered)."""
        await self.session.execute(
            update(InboxEvent).where(InboxEvent.event_id == event_id).values(**FORGOTTEN)
        )

    async def origin_ts(self, event_id: str) -> int | None:
        """When the homeserver received the event (ms), as the inbox recorded it."""
        return await self.session.scalar(select(InboxEvent.origin_ts).where(InboxEvent.event_id == event_id))

    async def pending_before(self, origin_ts: int) -> int:
        """How many events received at or before `origin_ts` (ms) are not handled yet."""
        return int(
            await self.session.scalar(
                select(func.count())
                .select_from(InboxEvent)
                .where(InboxEvent.done.is_(False), InboxEvent.origin_ts <= origin_ts)
            )
            or 0
        )

    async def prune(self, older_than: timedelta) -> int:
        """Forget handled events after a while (they only guard against re-delivery)."""
        cutoff: datetime = utcnow() - older_than
        result = await self.session.execute(
            delete(InboxEvent).where(InboxEvent.done.is_(True), InboxEvent.received_at < cutoff)
        )
        return int(getattr(result, "rowcount", 0) or 0)

    async def kept_for(self, user_id: str) -> Sequence[InboxEvent]:
        """What `user_id` sent that is still kept whole: events not handled yet."""
        result = await self.session.scalars(
            select(InboxEvent)
            .where(InboxEvent.sender == user_id, InboxEvent.done.is_(False))
            .order_by(InboxEvent.id)
        )
        return result.all()

    async def erase_user(self, user_id: str) -> int:
        """Handled events keep nothing of their sender (`claim`); older databases may
        still hold some: forget those. Events still to handle stay, to be answered."""
        result = await self.session.execute(
            update(InboxEvent)
            .where(InboxEvent.sender == user_id, InboxEvent.done.is_(True))
            .values(**FORGOTTEN)
        )
        return int(getattr(result, "rowcount", 0) or 0)
