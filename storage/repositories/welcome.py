"""Who has been welcomed where, and the welcomes waiting in their batching window.

A row per member and group of rooms: written `posted=False` when the member joins, claimed
(`posted=True`) by the job that posts the batch, in the same unit of work as the message.
Rows stay after the member leaves, so a member who comes back is not welcomed again."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, or_, select, update

from storage.models.directory import Welcome
from storage.repositories.base import Repository


@dataclass(frozen=True)
class PendingGroup:
    group_key: str
    first_join: datetime
    last_join: datetime
    count: int


class WelcomeRepository(Repository):
    async def welcomed(self, user_id: str, group_key: str, room_ids: Collection[str] = ()) -> bool:
        """Whether the member already has a welcome (posted or waiting) in this group: by
        the group's key, or in any of its rooms (so editing a group in the config
        welcomes nobody twice)."""
        cond = Welcome.group_key == group_key
        if room_ids:
            cond = or_(cond, Welcome.room_id.in_(list(room_ids)))
        found = await self.session.scalar(
            select(Welcome.user_id).where(Welcome.user_id == user_id, cond).limit(1)
        )
        return found is not None

    async def add_pending(
        self, group_key: str, user_id: str, room_id: str, display_name: str | None, joined_at: datetime
    ) -> bool:
        """Queue a member's welcome; False if they already have one in this group."""
        row = {
            "group_key": group_key,
            "user_id": user_id,
            "room_id": room_id,
            "display_name": display_name,
            "posted": False,
            "joined_at": joined_at,
        }
        new = await self.insert_ignore(Welcome.__table__, [row], ["group_key", "user_id"])  # type: ignore[arg-type]
        return new > 0

    async def drop_pending(self, user_id: str, room_id: str) -> int:
        """A member left before their batch was posted: their welcome is dropped (they
        were never welcomed, so coming back later welcomes them)."""
        result = await self.session.execute(
            delete(Welcome).where(
                Welcome.user_id == user_id, Welcome.room_id == room_id, Welcome.posted.is_(False)
            )
        )
        return int(getattr(result, "rowcount", 0) or 0)

    async def pending_groups(self) -> list[PendingGroup]:
        rows = await self.session.execute(
            select(Welcome.group_key, func.min(Welcome.joined_at), func.max(Welcome.joined_at), func.count())
            .where(Welcome.posted.is_(False))
            .group_by(Welcome.group_key)
        )
        return [PendingGroup(k, first, last, int(n)) for k, first, last, n in rows]

    async def pending_group(self, group_key: str) -> PendingGroup | None:
        for g in await self.pending_groups_for([group_key]):
            return g
        return None

    async def pending_groups_for(self, keys: Sequence[str]) -> list[PendingGroup]:
        rows = await self.session.execute(
            select(Welcome.group_key, func.min(Welcome.joined_at), func.max(Welcome.joined_at), func.count())
            .where(Welcome.posted.is_(False), Welcome.group_key.in_(list(keys)))
            .group_by(Welcome.group_key)
        )
        return [PendingGroup(k, first, last, int(n)) for k, first, last, n in rows]

    async def pending(self, group_key: str) -> list[Welcome]:
        """The group's waiting welcomes, in order of arrival."""
        rows = await self.session.scalars(
            select(Welcome)
            .where(Welcome.group_key == group_key, Welcome.posted.is_(False))
            .order_by(Welcome.joined_at, Welcome.user_id)
        )
        return list(rows)

    async def claim(self, group_key: str, user_ids: Sequence[str]) -> set[str]:
        """Mark these waiting welcomes posted; returns the members actually claimed. Two
        runs racing for one batch cannot both claim a member: the second's UPDATE waits
        for the first's commit (PostgreSQL) or for the write lock (SQLite), then finds
        `posted` already true."""
        if not user_ids:
            return set()
        result = await self.session.execute(
            update(Welcome)
            .where(
                Welcome.group_key == group_key,
                Welcome.user_id.in_(list(user_ids)),
                Welcome.posted.is_(False),
            )
            .values(posted=True)
            .returning(Welcome.user_id)
        )
        return set(result.scalars())

    async def posted_elsewhere(self, user_id: str, group_key: str) -> bool:
        """Whether the member was already welcomed (posted) in another group."""
        found = await self.session.scalar(
            select(Welcome.user_id)
            .where(Welcome.user_id == user_id, Welcome.group_key != group_key, Welcome.posted.is_(True))
            .limit(1)
        )
        return found is not None

    async def for_user(self, user_id: str) -> list[Welcome]:
        rows = await self.session.scalars(
            select(Welcome).where(Welcome.user_id == user_id).order_by(Welcome.joined_at)
        )
        return list(rows)

    # --- personal data ----------------------------------------------------------------
    async def export_member(self, user_id: str) -> list[dict[str, Any]]:
        return [
            {
                "groupe": w.group_key,
                "salon": w.room_id,
                "nom_affiche": w.display_name,
                "arrivee": w.joined_at,
                "accueil_publie": w.posted,
            }
            for w in await self.for_user(user_id)
        ]

    async def erase_member(self, user_id: str) -> int:
        result = await self.session.execute(delete(Welcome).where(Welcome.user_id == user_id))
        return int(getattr(result, "rowcount", 0) or 0)

    # --- evaluation -------------------------------------------------------------------
    async def arrivals(self, start: datetime, end: datetime) -> tuple[int, int]:
        """For the evaluation: how many members the network had by `end` (each counted
        once, whatever their groups of rooms), and how many arrived in [start, end)."""
        first = (
            select(Welcome.user_id, func.min(Welcome.joined_at).label("joined"))
            .where(Welcome.joined_at < end)
            .group_by(Welcome.user_id)
            .subquery()
        )
        row = (
            await self.session.execute(
                select(func.count(), func.count().filter(first.c.joined >= start)).select_from(first)
            )
        ).one()
        return int(row[0] or 0), int(row[1] or 0)
