"""The archive of weekly digests."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update

from storage.models.signals import Digest
from storage.repositories.base import Repository


class DigestRepository(Repository):
    async def for_week(self, week: str) -> Digest | None:
        return await self.session.scalar(select(Digest).where(Digest.week == week))

    async def get(self, digest_id: int) -> Digest | None:
        return await self.session.get(Digest, digest_id)

    async def latest(self) -> Digest | None:
        return await self.session.scalar(
            select(Digest).order_by(Digest.period_end.desc(), Digest.id.desc()).limit(1)
        )

    async def add(self, digest: Digest) -> Digest:
        self.session.add(digest)
        await self.session.flush()
        return digest

    async def archives(self, limit: int = 10) -> list[Digest]:
        rows = await self.session.scalars(select(Digest).order_by(Digest.period_end.desc()).limit(limit))
        return list(rows)

    async def published_by(self, user_id: str) -> list[dict[str, Any]]:
        """The digests an animator published by hand (personal data export)."""
        digests = await self.session.scalars(
            select(Digest).where(Digest.published_by == user_id).order_by(Digest.id)
        )
        return [{"digest": d.id, "semaine": d.week, "le": d.created_at} for d in digests]

    async def forget_publisher(self, user_id: str) -> int:
        result = await self.session.execute(
            update(Digest).where(Digest.published_by == user_id).values(published_by=None)
        )
        return int(getattr(result, "rowcount", 0) or 0)

    async def count_between(self, start: datetime, end: datetime) -> int:
        """Digests published in [start, end) (the evaluation)."""
        return int(
            await self.session.scalar(
                select(func.count())
                .select_from(Digest)
                .where(Digest.created_at >= start, Digest.created_at < end)
            )
            or 0
        )
