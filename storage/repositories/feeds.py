"""The veille: what each feed answered last, and the items waiting for curation."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update

from storage.base import utcnow
from storage.models.signals import FeedItem, FeedState
from storage.repositories.base import Repository

QUEUED, RETAINED, IGNORED = "queued", "retained", "ignored"


class FeedRepository(Repository):
    async def state(self, url: str) -> FeedState:
        row = await self.session.get(FeedState, url)
        if row is None:
            row = FeedState(url=url, failures=0)
            self.session.add(row)
        return row

    async def states(self, urls: Sequence[str]) -> dict[str, FeedState]:
        if not urls:
            return {}
        rows = await self.session.scalars(select(FeedState).where(FeedState.url.in_(list(urls))))
        return {r.url: r for r in rows}

    async def add_items(self, rows: Sequence[dict[str, Any]]) -> int:
        """Queue new items; those already known (same guid) are skipped."""
        now = utcnow()
        full = [
            {"status": QUEUED, "created_at": now, "signal_id": None, "decided_by": None, **r} for r in rows
        ]
        return await self.insert_ignore(FeedItem.__table__, full, ["guid"])  # type: ignore[arg-type]

    async def known_guids(self, guids: Sequence[str]) -> set[str]:
        if not guids:
            return set()
        return set(await self.session.scalars(select(FeedItem.guid).where(FeedItem.guid.in_(list(guids)))))

    async def queue(self, limit: int = 10) -> tuple[list[FeedItem], int]:
        total = int(
            await self.session.scalar(
                select(func.count()).select_from(FeedItem).where(FeedItem.status == QUEUED)
            )
            or 0
        )
        rows = await self.session.scalars(
            select(FeedItem).where(FeedItem.status == QUEUED).order_by(FeedItem.id.desc()).limit(limit)
        )
        return list(rows), total

    async def get(self, item_id: int) -> FeedItem | None:
        return await self.session.get(FeedItem, item_id)

    async def decide(self, item: FeedItem, status: str, by: str, signal_id: int | None = None) -> None:
        item.status = status
        item.decided_by = by
        item.signal_id = signal_id

    async def expire(self, older_than: datetime) -> int:
        """Items nobody looked at in time leave the queue (the veille stays fresh)."""
        result = await self.session.execute(
            update(FeedItem)
            .where(FeedItem.status == QUEUED, FeedItem.created_at < older_than)
            .values(status=IGNORED)
        )
        return int(getattr(result, "rowcount", 0) or 0)

    async def decided_by(self, user_id: str) -> list[dict[str, Any]]:
        """What an animator retained or ignored from the feeds (personal data export)."""
        items = await self.session.scalars(
            select(FeedItem).where(FeedItem.decided_by == user_id).order_by(FeedItem.id)
        )
        return [
            {
                "element": i.id,
                "flux": i.feed_name,
                "titre": i.title,
                "decision": i.status,
                "signal": i.signal_id,
            }
            for i in items
        ]

    async def forget_decider(self, user_id: str) -> int:
        result = await self.session.execute(
            update(FeedItem).where(FeedItem.decided_by == user_id).values(decided_by=None)
        )
        return int(getattr(result, "rowcount", 0) or 0)
