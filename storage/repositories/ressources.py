"""The resource library and its share of the shared search index (kind « ressource »)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.sql.elements import ColumnElement

from storage.base import utcnow
from storage.models.ressources import Resource
from storage.models.search import SearchTerm
from storage.repositories.base import Repository
from storage.repositories.search import Restrict, SearchRepository

KIND = "ressource"  # the library's documents in the shared search index

# What members share (the others are attached to events, or are digests).
SHARED_KINDS = ("pratique", "outil", "methode", "retour_experience", "formation", "autre")
EVENT_KINDS = ("captation", "support")
DIGEST = "digest"


@dataclass(frozen=True)
class ResourceFilter:
    text: str = ""
    kinds: tuple[str, ...] = ()  # empty: every kind
    since: datetime | None = None

    def conditions(self) -> list[ColumnElement[bool]]:
        conds: list[ColumnElement[bool]] = []
        if self.kinds:
            conds.append(Resource.kind.in_(self.kinds))
        if self.since is not None:
            conds.append(Resource.created_at >= self.since)
        return conds


@dataclass
class ResourcePage:
    resources: list[Resource]
    total: int
    complete: bool = True
    matched: dict[int, tuple[str, ...]] = field(default_factory=dict)


def search_fields(resource: Resource) -> list[tuple[str, int]]:
    """What of a resource is searchable, and how much each part weighs (its kind's code,
    « captation », « outil »…, counts as a word of it)."""
    return [
        (resource.title, 3),
        (" ".join(resource.tags or []), 3),
        (resource.description or "", 2),
        (resource.kind.replace("_", " "), 1),
    ]


class ResourceRepository(Repository):
    @property
    def _search(self) -> SearchRepository:
        return SearchRepository(self.session)

    async def add(self, resource: Resource) -> Resource:
        resource.created_at = resource.created_at or utcnow()
        resource.tags = list(resource.tags or [])
        resource.description = resource.description or ""
        self.session.add(resource)
        await self.session.flush()
        await self.reindex(resource)
        return resource

    async def reindex(self, resource: Resource) -> None:
        await self._search.index(KIND, resource.id, search_fields(resource))

    async def get(self, resource_id: int) -> Resource | None:
        return await self.session.get(Resource, resource_id)

    async def delete(self, resource: Resource) -> None:
        await self._search.remove(KIND, resource.id)
        await self.session.delete(resource)
        await self.session.flush()

    async def for_event(self, event_id: int, kind: str | None = None) -> list[Resource]:
        query = select(Resource).where(Resource.event_id == event_id)
        if kind is not None:
            query = query.where(Resource.kind == kind)
        return list(await self.session.scalars(query.order_by(Resource.id)))

    async def for_events(self, event_ids: Sequence[int]) -> dict[int, list[Resource]]:
        if not event_ids:
            return {}
        rows = await self.session.scalars(
            select(Resource).where(Resource.event_id.in_(list(event_ids))).order_by(Resource.id)
        )
        out: dict[int, list[Resource]] = {}
        for r in rows:
            out.setdefault(r.event_id or 0, []).append(r)
        return out

    # --- digests ----------------------------------------------------------------------
    async def digest_ids(self) -> set[int]:
        return set(
            await self.session.scalars(select(Resource.digest_id).where(Resource.digest_id.is_not(None)))
        )

    async def latest_digest_id(self) -> int:
        return int(await self.session.scalar(select(func.max(Resource.digest_id))) or 0)

    # --- featuring in the digest -----------------------------------------------------------
    async def feature(self, resource: Resource, week: str | None, by: str | None) -> None:
        resource.featured_week = week
        resource.featured_by = by if week else None
        await self.session.flush()

    async def featured(self, week: str) -> list[Resource]:
        rows = await self.session.scalars(
            select(Resource).where(Resource.featured_week == week).order_by(Resource.id)
        )
        return list(rows)

    # --- search -----------------------------------------------------------------------
    async def find(self, flt: ResourceFilter, *, limit: int = 10, offset: int = 0) -> ResourcePage:
        """`!ressources`: words through the shared index (the filters applied inside its
        read), or without words the latest resources matching the filters."""
        conds = flt.conditions()
        if flt.text.strip():
            restrict = (
                Restrict(lambda q: q.join(Resource, Resource.id == SearchTerm.doc_id).where(*conds))
                if conds
                else None
            )
            result = await self._search.search(
                KIND, flt.text, limit=limit, offset=offset, restrict=restrict, short_read=True
            )
            by_id = await self.snapshots(Resource, [h.doc_id for h in result.hits])
            resources = [by_id[h.doc_id] for h in result.hits if h.doc_id in by_id]
            return ResourcePage(
                resources, result.total, result.complete, {h.doc_id: h.matched for h in result.hits}
            )
        total = int(await self.session.scalar(select(func.count()).select_from(Resource).where(*conds)) or 0)
        rows = await self.session.scalars(
            select(Resource)
            .where(*conds)
            .order_by(Resource.created_at.desc(), Resource.id.desc())
            .limit(limit)
            .offset(offset)
        )
        return ResourcePage(list(rows), total)

    # --- personal data ------------------------------------------------------------------
    async def export_member(self, user_id: str) -> list[dict[str, Any]]:
        rows = await self.session.scalars(
            select(Resource).where(Resource.author_id == user_id).order_by(Resource.id)
        )
        return [
            {
                "ressource": r.id,
                "type": r.kind,
                "titre": r.title,
                "lien": r.url,
                "description": r.description,
                "tags": r.tags,
                "evenement": r.event_id,
                "le": r.created_at,
            }
            for r in rows
        ]

    async def featured_by(self, user_id: str) -> list[dict[str, Any]]:
        """What an animator put forward in a week's digest (personal data export)."""
        rows = await self.session.scalars(
            select(Resource).where(Resource.featured_by == user_id).order_by(Resource.id)
        )
        return [{"ressource": r.id, "titre": r.title, "semaine": r.featured_week} for r in rows]

    async def erase_member(self, user_id: str) -> int:
        """What a member shared goes; what they attached to an event (a recording, a
        material) stays the network's, without their name."""
        erased = 0
        for resource in list(
            await self.session.scalars(
                select(Resource).where(Resource.author_id == user_id, Resource.kind.in_(SHARED_KINDS))
            )
        ):
            await self.delete(resource)
            erased += 1
        result = await self.session.execute(
            update(Resource).where(Resource.author_id == user_id).values(author_id=None, author_name=None)
        )
        erased += int(getattr(result, "rowcount", 0) or 0)
        await self.session.execute(
            update(Resource).where(Resource.featured_by == user_id).values(featured_by=None)
        )
        return erased
