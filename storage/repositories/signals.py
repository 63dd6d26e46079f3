"""Signals, their supports and comments; the signals' share of the search index."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.sql.elements import ColumnElement

from storage.base import utcnow
from storage.models.search import SearchTerm
from storage.models.signals import Signal, SignalComment, SignalSupport
from storage.repositories.base import Repository
from storage.repositories.search import Restrict, SearchRepository

KIND = "signal"  # the signals' documents in the shared search index

# Statuses of the curation flow.
PROPOSED, RETAINED, PUBLISHED, DISCARDED = "proposed", "retained", "published", "discarded"
VISIBLE = (PROPOSED, RETAINED, PUBLISHED)


@dataclass(frozen=True)
class SignalFilter:
    """What `!signaux` asks for: words (searched in the index) and exact filters."""

    text: str = ""
    category: str | None = None
    nature: str | None = None
    territory: str | None = None
    since: datetime | None = None
    statuses: tuple[str, ...] = (PROPOSED, RETAINED, PUBLISHED)
    author_id: str | None = None

    @property
    def narrowed(self) -> bool:
        """More than the everyday search (every visible signal)?"""
        extra = (self.category, self.nature, self.territory, self.since, self.author_id)
        return any(v is not None for v in extra) or set(self.statuses) != set(VISIBLE)

    def restriction(self) -> Restrict:
        """The filters as a search `Restrict`. Without a date (the everyday filters) its
        values are named parameters, so the statement is prepared once per shape; a date
        goes through SQLAlchemy, which converts it for the engine (prepared statements
        receive values as they are)."""
        if self.since is not None:
            conds = self.conditions()
            return Restrict(lambda q: q.join(Signal, Signal.id == SearchTerm.doc_id).where(*conds))
        fields = [
            (name, column)
            for name, column in (
                ("category", Signal.category),
                ("nature", Signal.nature),
                ("territory", Signal.territory),
                ("author_id", Signal.author_id),
            )
            if getattr(self, name)
        ]
        statuses: list[Any] = [bindparam(f"status{i}") for i in range(len(self.statuses))]

        def apply(q: Any) -> Any:
            q = q.join(Signal, Signal.id == SearchTerm.doc_id).where(Signal.status.in_(statuses))
            return q.where(*(column == bindparam(name) for name, column in fields))

        params: dict[str, Any] = {f"status{i}": status for i, status in enumerate(self.statuses)}
        params.update({name: getattr(self, name) for name, _ in fields})
        key = ("signals", len(self.statuses), tuple(name for name, _ in fields))
        return Restrict(apply, key, params)

    def conditions(self) -> list[ColumnElement[bool]]:
        conds: list[ColumnElement[bool]] = [Signal.status.in_(self.statuses)]
        if self.category:
            conds.append(Signal.category == self.category)
        if self.nature:
            conds.append(Signal.nature == self.nature)
        if self.territory:
            conds.append(Signal.territory == self.territory)
        if self.since is not None:
            conds.append(Signal.created_at >= self.since)
        if self.author_id:
            conds.append(Signal.author_id == self.author_id)
        return conds


@dataclass
class SignalPage:
    signals: list[Signal]
    total: int
    complete: bool = True
    matched: dict[int, tuple[str, ...]] = field(default_factory=dict)


def search_fields(signal: Signal) -> list[tuple[str, int]]:
    """What of a signal is searchable, and how much each part weighs."""
    return [
        (signal.title, 3),
        (" ".join(signal.tags or []), 3),
        (signal.observation or "", 2),
        (signal.why or "", 1),
        (signal.territory or "", 1),
    ]


class SignalRepository(Repository):
    @property
    def _search(self) -> SearchRepository:
        return SearchRepository(self.session)

    # --- signals --------------------------------------------------------------------
    async def add(self, signal: Signal) -> Signal:
        now = utcnow()
        signal.created_at = signal.created_at or now
        signal.updated_at = now
        signal.support_count = signal.support_count or 0
        signal.tags = list(signal.tags or [])
        signal.related = list(signal.related or [])
        signal.status = signal.status or PROPOSED
        signal.origin = signal.origin or "member"
        self.session.add(signal)
        await self.session.flush()
        await self.reindex(signal)
        return signal

    async def add_unless_linked(self, signal: Signal) -> Signal | None:
        """Add `signal`, unless another signal recorded meanwhile holds its link (the
        unique `url_key`): then nothing is added and that other signal is returned. A
        duplicate is a result, not an exception; the caller's unit of work goes on."""
        try:
            async with self.session.begin_nested():
                await self.add(signal)
        except IntegrityError:
            existing = await self.by_url_key(signal.url_key or "")
            if existing is None:
                raise
            return existing
        return None

    async def reindex(self, signal: Signal) -> None:
        """Discarded signals are kept out of the index: the everyday search (visible
        signals, no filter) then reads postings alone, without a join."""
        if signal.status == DISCARDED:
            await self._search.remove(KIND, signal.id)
        else:
            await self._search.index(KIND, signal.id, search_fields(signal))

    async def get(self, signal_id: int) -> Signal | None:
        return await self.session.get(Signal, signal_id)

    async def by_url_key(self, url_key: str) -> Signal | None:
        return await self.session.scalar(select(Signal).where(Signal.url_key == url_key))

    async def delete(self, signal: Signal) -> None:
        await self._search.remove(KIND, signal.id)
        await self.session.execute(delete(SignalSupport).where(SignalSupport.signal_id == signal.id))
        await self.session.execute(delete(SignalComment).where(SignalComment.signal_id == signal.id))
        await self.session.delete(signal)
        await self.session.flush()

    async def set_status(
        self, signal: Signal, status: str, by: str | None, reason: str | None = None
    ) -> None:
        was_discarded = signal.status == DISCARDED
        signal.status = status
        signal.status_by = by
        signal.status_reason = reason
        signal.updated_at = utcnow()
        if was_discarded != (status == DISCARDED):
            await self.reindex(signal)

    async def last_territory(self, user_id: str) -> str | None:
        """The territory of the member's latest signal (a default for the next one)."""
        return await self.session.scalar(
            select(Signal.territory)
            .where(Signal.author_id == user_id, Signal.territory.is_not(None))
            .order_by(Signal.id.desc())
            .limit(1)
        )

    async def many(self, ids: Sequence[int]) -> dict[int, Signal]:
        if not ids:
            return {}
        rows = await self.session.scalars(select(Signal).where(Signal.id.in_(list(ids))))
        return {s.id: s for s in rows}

    # --- supports and comments -----------------------------------------------------------
    async def support(self, signal: Signal, user_id: str, reaction_event_id: str | None = None) -> bool:
        """Record a support; False when this member already supports the signal."""
        added = await self.insert_ignore(
            SignalSupport.__table__,  # type: ignore[arg-type]
            [
                {
                    "signal_id": signal.id,
                    "user_id": user_id,
                    "reaction_event_id": reaction_event_id,
                    "created_at": utcnow(),
                }
            ],
            ["signal_id", "user_id"],
        )
        if added:
            await self._recount(signal.id)
        return bool(added)

    async def withdraw_reaction(self, reaction_event_id: str) -> int | None:
        """A 👍 was removed: withdraw the support it made. Returns the signal's id."""
        row = await self.session.scalar(
            select(SignalSupport).where(SignalSupport.reaction_event_id == reaction_event_id)
        )
        if row is None:
            return None
        signal_id = row.signal_id
        await self.session.delete(row)
        await self.session.flush()
        await self._recount(signal_id)
        return signal_id

    async def supporters(self, signal_id: int) -> list[str]:
        rows = await self.session.scalars(
            select(SignalSupport.user_id)
            .where(SignalSupport.signal_id == signal_id)
            .order_by(SignalSupport.created_at)
        )
        return list(rows)

    async def _recount(self, signal_id: int) -> None:
        count = select(func.count()).where(SignalSupport.signal_id == signal_id).scalar_subquery()
        await self.session.execute(update(Signal).where(Signal.id == signal_id).values(support_count=count))
        signal = await self.session.get(Signal, signal_id)
        if signal is not None:
            await self.session.refresh(signal, ["support_count"])

    async def comment(self, signal: Signal, user_id: str, name: str, text: str) -> SignalComment:
        row = SignalComment(
            signal_id=signal.id, author_id=user_id, author_name=name, text=text, created_at=utcnow()
        )
        self.session.add(row)
        await self.session.flush()
        return row

    async def comments(self, signal_id: int) -> list[SignalComment]:
        rows = await self.session.scalars(
            select(SignalComment).where(SignalComment.signal_id == signal_id).order_by(SignalComment.id)
        )
        return list(rows)

    # --- reading many -----------------------------------------------------------------
    async def find(self, flt: SignalFilter, *, limit: int = 10, offset: int = 0) -> SignalPage:
        """`!signaux`: words through the shared index (filters applied inside its bounded
        read), or, without words, the latest signals matching the filters."""
        conds = flt.conditions()
        if flt.text.strip() and DISCARDED not in flt.statuses:
            restrict = flt.restriction() if flt.narrowed else None

            result = await self._search.search(
                KIND,
                flt.text,
                limit=limit,
                offset=offset,
                restrict=restrict,
                short_read=True,  # the filters (category, nature, territory, period) are broad
            )
            by_id = await self.snapshots(Signal, [h.doc_id for h in result.hits])
            signals = [by_id[h.doc_id] for h in result.hits if h.doc_id in by_id]
            matched = {h.doc_id: h.matched for h in result.hits}
            return SignalPage(signals, result.total, result.complete, matched)
        if flt.text.strip():  # discarded signals are not indexed: a plain match on the title
            for word in flt.text.split():
                conds.append(func.lower(Signal.title).contains(word.lower(), autoescape=True))
        total = int(await self.session.scalar(select(func.count()).select_from(Signal).where(*conds)) or 0)
        rows = await self.session.scalars(
            select(Signal)
            .where(*conds)
            .order_by(Signal.created_at.desc(), Signal.id.desc())
            .limit(limit)
            .offset(offset)
        )
        return SignalPage(list(rows), total)

    async def for_digest(
        self, start: datetime, end: datetime, *, statuses: Sequence[str], limit: int
    ) -> tuple[list[Signal], int]:
        """The period's signals a digest may show, most supported first (then retained
        before proposed, then oldest first), and how many there are in all."""
        conds = [Signal.created_at >= start, Signal.created_at < end, Signal.status.in_(list(statuses))]
        total = int(await self.session.scalar(select(func.count()).select_from(Signal).where(*conds)) or 0)
        retained_first = (Signal.status == RETAINED).desc()
        rows = await self.session.scalars(
            select(Signal)
            .where(*conds)
            .order_by(Signal.support_count.desc(), retained_first, Signal.created_at, Signal.id)
            .limit(limit)
        )
        return list(rows), total

    async def mark_published(self, signal_ids: Sequence[int], digest_id: int) -> None:
        if signal_ids:
            await self.session.execute(
                update(Signal)
                .where(Signal.id.in_(list(signal_ids)))
                .values(status=PUBLISHED, digest_id=digest_id, updated_at=utcnow())
            )

    # --- personal data ----------------------------------------------------------------
    async def activity(self, start: datetime, end: datetime) -> tuple[int, int, int, set[str]]:
        """For the evaluation, over [start, end): signals members shared, supports and
        comments given, and who did any of it."""
        shared = await self.session.execute(
            select(func.count(), Signal.author_id)
            .where(Signal.created_at >= start, Signal.created_at < end, Signal.origin == "member")
            .group_by(Signal.author_id)
        )
        supported = await self.session.execute(
            select(func.count(), SignalSupport.user_id)
            .where(SignalSupport.created_at >= start, SignalSupport.created_at < end)
            .group_by(SignalSupport.user_id)
        )
        commented = await self.session.execute(
            select(func.count(), SignalComment.author_id)
            .where(SignalComment.created_at >= start, SignalComment.created_at < end)
            .group_by(SignalComment.author_id)
        )
        people: set[str] = set()
        totals = []
        for rows in (shared, supported, commented):
            total = 0
            for n, who in rows:
                total += int(n)
                if who:
                    people.add(who)
            totals.append(total)
        return totals[0], totals[1], totals[2], people

    async def export_member(self, user_id: str) -> dict[str, Any]:
        signals = await self.session.scalars(
            select(Signal).where(Signal.author_id == user_id).order_by(Signal.id)
        )
        comments = await self.session.scalars(
            select(SignalComment).where(SignalComment.author_id == user_id).order_by(SignalComment.id)
        )
        supports = await self.session.scalars(
            select(SignalSupport).where(SignalSupport.user_id == user_id).order_by(SignalSupport.created_at)
        )
        decided = await self.session.scalars(
            select(Signal).where(Signal.status_by == user_id).order_by(Signal.id)
        )
        return {
            "signaux": [_signal_dict(s) for s in signals],
            "commentaires": [{"signal": c.signal_id, "texte": c.text, "le": c.created_at} for c in comments],
            "soutiens": [{"signal": s.signal_id, "le": s.created_at} for s in supports],
            # As an animator: the signals they retained or set aside.
            "decisions_sur_des_signaux": [
                {"signal": s.id, "titre": s.title, "statut": s.status, "raison": s.status_reason}
                for s in decided
            ],
        }

    async def erase_member(self, user_id: str, *, keep_content: bool) -> int:
        """Forget a member. With `keep_content`, their signals and comments stay for the
        network without any trace of them; else they are deleted."""
        erased = 0
        supported = list(
            await self.session.scalars(
                select(SignalSupport.signal_id).where(SignalSupport.user_id == user_id)
            )
        )
        result = await self.session.execute(delete(SignalSupport).where(SignalSupport.user_id == user_id))
        erased += int(getattr(result, "rowcount", 0) or 0)
        for signal_id in supported:
            await self._recount(signal_id)
        if keep_content:
            for model in (Signal, SignalComment):
                result = await self.session.execute(
                    update(model).where(model.author_id == user_id).values(author_id=None, author_name=None)
                )
                erased += int(getattr(result, "rowcount", 0) or 0)
        else:
            result = await self.session.execute(
                delete(SignalComment).where(SignalComment.author_id == user_id)
            )
            erased += int(getattr(result, "rowcount", 0) or 0)
            for signal in list(await self.session.scalars(select(Signal).where(Signal.author_id == user_id))):
                await self.delete(signal)
                erased += 1
        await self.session.execute(update(Signal).where(Signal.status_by == user_id).values(status_by=None))
        return erased


def _signal_dict(s: Signal) -> dict[str, Any]:
    return {
        "signal": s.id,
        "titre": s.title,
        "lien": s.url,
        "observation": s.observation,
        "pourquoi": s.why,
        "categorie": s.category,
        "nature": s.nature,
        "horizon": s.horizon,
        "territoire": s.territory,
        "type_de_source": s.source_kind,
        "tags": s.tags,
        "observe_le": s.observed_on,
        "statut": s.status,
        "origine": s.origin,  # « member », or « veille:<flux> » when retained from the feeds
        "salon": s.room_id,
        "nom_affiche": s.author_name,
        "cree_le": s.created_at,
        "modifie_le": s.updated_at,
    }
