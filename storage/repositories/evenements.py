"""Events, their sign-ups (seats and waiting list) and the reminders already handled.

Seats are counted and given with the event row locked (`FOR UPDATE` on PostgreSQL; SQLite
has one writer at a time), so two members taking the last seat at once cannot both get
it. The waiting list is the « waiting » rows in arrival order (`id`)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, case, func, or_, select, update

from storage.base import utcnow
from storage.models.evenements import Event, EventReminder, EventRsvp
from storage.repositories.base import Repository

GOING, WAITING = "going", "waiting"
SCHEDULED, CANCELLED = "scheduled", "cancelled"

# Given (capacity, seats taken, the waiting list in order): who gets a seat now.
Promoter = Callable[[int | None, int, Sequence[str]], Sequence[str]]


@dataclass(frozen=True)
class SignUp:
    status: str  # going | waiting
    new: bool  # False: they were already signed up (with this status)
    position: int = 0  # on the waiting list (1 = next)


@dataclass(frozen=True)
class Withdrawal:
    was: str | None  # going | waiting | None (was not signed up)
    promoted: tuple[str, ...] = ()  # who got a seat because of it


@dataclass(frozen=True)
class Counts:
    going: int = 0
    waiting: int = 0


@dataclass(frozen=True)
class ReminderState:
    """An upcoming event as reminder planning sees it."""

    id: int
    starts_at: datetime
    scheduled_at: datetime
    done: frozenset[tuple[int, datetime]]


class EventRepository(Repository):
    # --- events -----------------------------------------------------------------------
    async def add(self, event: Event) -> Event:
        now = utcnow()
        event.created_at = event.created_at or now
        event.updated_at = now
        event.scheduled_at = event.scheduled_at or now
        event.status = event.status or SCHEDULED
        event.sequence = event.sequence or 0
        event.description = event.description or ""
        event.rooms = list(event.rooms or [])
        self.session.add(event)
        await self.session.flush()
        return event

    async def get(self, event_id: int) -> Event | None:
        return await self.session.get(Event, event_id)

    async def _locked(self, event_id: int) -> Event | None:
        return await self.session.scalar(
            select(Event)
            .where(Event.id == event_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )

    def _upcoming(self, now: datetime) -> Any:
        """Scheduled events not over yet (an event without an end is over when it
        starts), soonest first."""
        return (
            select(Event)
            .where(
                Event.status == SCHEDULED,
                or_(Event.starts_at > now, and_(Event.ends_at.is_not(None), Event.ends_at > now)),
            )
            .order_by(Event.starts_at, Event.id)
        )

    async def upcoming(
        self, now: datetime, *, room_id: str | None = None, kind: str | None = None, limit: int | None = None
    ) -> list[Event]:
        """Events to come, soonest first; with `room_id`, those announced there."""
        query = self._upcoming(now)
        if kind is not None:
            query = query.where(Event.kind == kind)
        if room_id is None:
            return list(await self.session.scalars(query.limit(limit) if limit is not None else query))
        events = [e for e in await self.session.scalars(query) if room_id in (e.rooms or [])]
        return events[:limit] if limit is not None else events

    async def count_upcoming(self, now: datetime, *, kind: str | None = None) -> int:
        query = self._upcoming(now).order_by(None)
        if kind is not None:
            query = query.where(Event.kind == kind)
        return int(await self.session.scalar(select(func.count()).select_from(query.subquery())) or 0)

    async def latest_started(self, now: datetime, *, room_id: str | None = None) -> Event | None:
        """The scheduled event that started last (its recording comes after it)."""
        events = await self.session.scalars(
            select(Event)
            .where(Event.status == SCHEDULED, Event.starts_at <= now)
            .order_by(Event.starts_at.desc())
            .limit(50)
        )
        for event in events:
            if room_id is None or room_id in (event.rooms or []):
                return event
        return None

    async def cancel(self, event: Event, reason: str | None) -> None:
        event.status = CANCELLED
        event.cancel_reason = reason
        event.sequence += 1
        event.updated_at = utcnow()
        await self.session.flush()

    # --- sign-ups -----------------------------------------------------------------------
    async def sign_up(
        self,
        event_id: int,
        user_id: str,
        *,
        status_for: Callable[[int | None, int], str],
        reaction_event_id: str | None = None,
    ) -> SignUp:
        """Sign `user_id` up; `status_for(capacity, seats taken)` says whether they get a
        seat or wait. Already signed up: nothing changes."""
        event = await self._locked(event_id)
        assert event is not None
        existing = await self.session.scalar(
            select(EventRsvp).where(EventRsvp.event_id == event_id, EventRsvp.user_id == user_id)
        )
        if existing is not None:
            if reaction_event_id and existing.reaction_event_id is None:
                existing.reaction_event_id = reaction_event_id
            position = await self._position(existing) if existing.status == WAITING else 0
            return SignUp(existing.status, False, position)
        counts = (await self.counts([event_id])).get(event_id, Counts())
        status = status_for(event.capacity, counts.going)
        row = EventRsvp(
            event_id=event_id,
            user_id=user_id,
            status=status,
            reaction_event_id=reaction_event_id,
            created_at=utcnow(),
        )
        self.session.add(row)
        await self.session.flush()
        return SignUp(status, True, await self._position(row) if status == WAITING else 0)

    async def _position(self, row: EventRsvp) -> int:
        ahead = await self.session.scalar(
            select(func.count())
            .select_from(EventRsvp)
            .where(EventRsvp.event_id == row.event_id, EventRsvp.status == WAITING, EventRsvp.id <= row.id)
        )
        return int(ahead or 0)

    async def withdraw(self, event_id: int, user_id: str, *, promote: Promoter) -> Withdrawal:
        """Take `user_id` off the event; free seats go to the waiting list, in order."""
        event = await self._locked(event_id)
        if event is None:
            return Withdrawal(None)
        row = await self.session.scalar(
            select(EventRsvp).where(EventRsvp.event_id == event_id, EventRsvp.user_id == user_id)
        )
        if row is None:
            return Withdrawal(None)
        was = row.status
        await self.session.delete(row)
        await self.session.flush()
        promoted = await self.fill_seats(event, promote=promote) if was == GOING else ()
        return Withdrawal(was, promoted)

    async def withdraw_reaction(
        self, reaction_event_id: str, *, promote: Promoter
    ) -> tuple[int, Withdrawal] | None:
        """A ✅ was removed: the sign-up it made is withdrawn. (event id, what happened)."""
        row = await self.session.scalar(
            select(EventRsvp).where(EventRsvp.reaction_event_id == reaction_event_id)
        )
        if row is None:
            return None
        event_id, user_id = row.event_id, row.user_id
        return event_id, await self.withdraw(event_id, user_id, promote=promote)

    async def fill_seats(self, event: Event, *, promote: Promoter) -> tuple[str, ...]:
        """Give free seats to the waiting list (after a withdrawal or a larger capacity)."""
        waiting = list(
            await self.session.scalars(
                select(EventRsvp)
                .where(EventRsvp.event_id == event.id, EventRsvp.status == WAITING)
                .order_by(EventRsvp.id)
            )
        )
        if not waiting:
            return ()
        going = (await self.counts([event.id])).get(event.id, Counts()).going
        chosen = set(promote(event.capacity, going, [r.user_id for r in waiting]))
        promoted = tuple(r.user_id for r in waiting if r.user_id in chosen)
        if promoted:
            await self.session.execute(
                update(EventRsvp)
                .where(EventRsvp.event_id == event.id, EventRsvp.user_id.in_(promoted))
                .values(status=GOING)
                .execution_options(synchronize_session=False)
            )
        return promoted

    async def status_of(self, event_id: int, user_id: str) -> str | None:
        return await self.session.scalar(
            select(EventRsvp.status).where(EventRsvp.event_id == event_id, EventRsvp.user_id == user_id)
        )

    async def attendees(self, event_id: int, status: str = GOING) -> list[str]:
        rows = await self.session.scalars(
            select(EventRsvp.user_id)
            .where(EventRsvp.event_id == event_id, EventRsvp.status == status)
            .order_by(EventRsvp.id)
        )
        return list(rows)

    async def counts(self, event_ids: Sequence[int]) -> dict[int, Counts]:
        """Seats taken and waiting, per event, in one read."""
        if not event_ids:
            return {}
        going = func.sum(case((EventRsvp.status == GOING, 1), else_=0))
        waiting = func.sum(case((EventRsvp.status == WAITING, 1), else_=0))
        rows = await self.session.execute(
            select(EventRsvp.event_id, going, waiting)
            .where(EventRsvp.event_id.in_(list(event_ids)))
            .group_by(EventRsvp.event_id)
        )
        return {event_id: Counts(int(g or 0), int(w or 0)) for event_id, g, w in rows}

    async def held_between(self, start: datetime, end: datetime) -> tuple[int, int, int]:
        """Events that started in [start, end) and were not cancelled: how many, the seats
        taken in them (sign-ups) and the distinct people who took them (the evaluation's
        « events and participants »)."""
        held = (Event.status != CANCELLED) & (Event.starts_at >= start) & (Event.starts_at < end)
        events = await self.session.scalar(select(func.count()).select_from(Event).where(held))
        seats, people = (
            await self.session.execute(
                select(func.count(), func.count(func.distinct(EventRsvp.user_id)))
                .join(Event, Event.id == EventRsvp.event_id)
                .where(held, EventRsvp.status == GOING)
            )
        ).one()
        return int(events or 0), int(seats or 0), int(people or 0)

    async def statuses_of(self, user_id: str, event_ids: Sequence[int]) -> dict[int, str]:
        if not event_ids:
            return {}
        rows = await self.session.execute(
            select(EventRsvp.event_id, EventRsvp.status).where(
                EventRsvp.user_id == user_id, EventRsvp.event_id.in_(list(event_ids))
            )
        )
        return {event_id: status for event_id, status in rows}

    # --- reminders ----------------------------------------------------------------------
    async def reminder_states(self, now: datetime) -> list[ReminderState]:
        """Every scheduled event still to start, with the reminders handled for it."""
        events = (
            await self.session.execute(
                select(Event.id, Event.starts_at, Event.scheduled_at).where(
                    Event.status == SCHEDULED, Event.starts_at > now
                )
            )
        ).all()
        if not events:
            return []
        ids = [e[0] for e in events]
        done: dict[int, set[tuple[int, datetime]]] = {}
        for chunk_start in range(0, len(ids), 1000):
            chunk = ids[chunk_start : chunk_start + 1000]
            rows = await self.session.execute(
                select(EventReminder.event_id, EventReminder.offset_seconds, EventReminder.starts_at).where(
                    EventReminder.event_id.in_(chunk)
                )
            )
            for event_id, offset, starts_at in rows:
                done.setdefault(event_id, set()).add((offset, starts_at))
        return [
            ReminderState(event_id, starts_at, scheduled_at, frozenset(done.get(event_id, ())))
            for event_id, starts_at, scheduled_at in events
        ]

    async def mark_reminder(
        self, event_id: int, offset_seconds: int, starts_at: datetime, outcome: str
    ) -> bool:
        """Record a reminder as handled; False when it already was (by another run)."""
        added = await self.insert_ignore(
            EventReminder.__table__,  # type: ignore[arg-type]
            [
                {
                    "event_id": event_id,
                    "offset_seconds": offset_seconds,
                    "starts_at": starts_at,
                    "outcome": outcome,
                    "done_at": utcnow(),
                }
            ],
            ["event_id", "offset_seconds", "starts_at"],
        )
        return added > 0

    # --- personal data ------------------------------------------------------------------
    async def export_member(self, user_id: str) -> dict[str, Any]:
        rsvps = (
            await self.session.execute(
                select(EventRsvp, Event.title, Event.starts_at)
                .join(Event, Event.id == EventRsvp.event_id)
                .where(EventRsvp.user_id == user_id)
                .order_by(EventRsvp.id)
            )
        ).all()
        created = await self.session.scalars(
            select(Event).where(Event.created_by == user_id).order_by(Event.id)
        )
        return {
            "inscriptions": [
                {
                    "evenement": r.event_id,
                    "titre": title,
                    "debut": starts_at,
                    "statut": r.status,
                    "le": r.created_at,
                }
                for r, title, starts_at in rsvps
            ],
            "evenements_crees": [{"evenement": e.id, "titre": e.title} for e in created],
        }

    async def erase_member(self, user_id: str, *, promote: Promoter) -> int:
        """Forget a member: their sign-ups go (their seats to the waiting list), the
        events they created stay, without their name."""
        erased = 0
        event_ids = list(
            await self.session.scalars(select(EventRsvp.event_id).where(EventRsvp.user_id == user_id))
        )
        for event_id in event_ids:
            if (await self.withdraw(event_id, user_id, promote=promote)).was is not None:
                erased += 1
        result = await self.session.execute(
            update(Event).where(Event.created_by == user_id).values(created_by=None)
        )
        erased += int(getattr(result, "rowcount", 0) or 0)
        return erased
