"""Scheduled announcements: the active ones, and moving an announcement past an
occurrence once it is posted (or skipped)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select, update

from storage.base import utcnow
from storage.models.annonces import Announcement
from storage.repositories.base import Repository

ACTIVE, DONE, CANCELLED = "active", "done", "cancelled"


class AnnouncementRepository(Repository):
    async def add(self, announcement: Announcement) -> Announcement:
        now = utcnow()
        announcement.created_at = announcement.created_at or now
        announcement.updated_at = now
        announcement.status = announcement.status or ACTIVE
        announcement.posted_count = announcement.posted_count or 0
        announcement.rooms = list(announcement.rooms or [])
        self.session.add(announcement)
        await self.session.flush()
        return announcement

    async def get(self, announcement_id: int) -> Announcement | None:
        return await self.session.get(Announcement, announcement_id)

    async def active(self, room_id: str | None = None) -> list[Announcement]:
        rows = list(
            await self.session.scalars(
                select(Announcement).where(Announcement.status == ACTIVE).order_by(Announcement.id)
            )
        )
        return [a for a in rows if room_id is None or room_id in (a.rooms or [])]

    async def advance(self, announcement_id: int, occurrence: datetime, *, posted: bool, last: bool) -> bool:
        """Record `occurrence` as handled, once: False when it (or a later one) already
        was — another run got there first. `last`: nothing follows, the announcement is
        done."""
        values: dict[str, Any] = {"last_occurrence": occurrence, "updated_at": utcnow()}
        if posted:
            values["posted_count"] = Announcement.posted_count + 1
        if last:
            values["status"] = DONE
        result = await self.session.execute(
            update(Announcement)
            .where(
                Announcement.id == announcement_id,
                Announcement.status == ACTIVE,
                (Announcement.last_occurrence.is_(None)) | (Announcement.last_occurrence < occurrence),
            )
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        return bool(getattr(result, "rowcount", 0))

    async def cancel(self, announcement: Announcement) -> None:
        announcement.status = CANCELLED
        announcement.updated_at = utcnow()
        await self.session.flush()

    async def export_member(self, user_id: str) -> list[dict[str, Any]]:
        rows = await self.session.scalars(
            select(Announcement).where(Announcement.author_id == user_id).order_by(Announcement.id)
        )
        return [
            {
                "annonce": a.id,
                "texte": a.text,
                "quand": a.at if a.at else a.recurrence,
                "statut": a.status,
                "creee_le": a.created_at,
            }
            for a in rows
        ]

    async def forget_author(self, user_id: str) -> int:
        """The announcements stay the network's; their author's name goes."""
        result = await self.session.execute(
            update(Announcement).where(Announcement.author_id == user_id).values(author_id=None)
        )
        return int(getattr(result, "rowcount", 0) or 0)
