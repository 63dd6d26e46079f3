"""The rules of events, without Matrix or a database: who gets a seat and who waits,
which reminders are owed at a given moment, and how reminder delays are written.

Reminder planning is a pure function of « now » and what the database holds (each
event's start, when that start was set, and the reminders already handled), so it is
tested with a frozen clock and the job that runs it can run at any time, as often as it
likes: late after a downtime, twice after a restart — what it sends is the same."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TypeVar

GOING, WAITING = "going", "waiting"
WEBINAR, MEETING = "webinaire", "rencontre"
SCHEDULED, CANCELLED = "scheduled", "cancelled"
SENT, SKIPPED = "sent", "skipped"

# A reminder this far ahead or more is a notice in the room; closer, it mentions the
# people who signed up.
NOTICE_BEYOND = timedelta(days=1)

T = TypeVar("T")


# --- seats and the waiting list -------------------------------------------------------------
def status_for_newcomer(capacity: int | None, going: int) -> str:
    """A new sign-up gets a seat while there is one; else it waits."""
    return GOING if capacity is None or going < capacity else WAITING


def to_promote(capacity: int | None, going: int, waiting: Sequence[T]) -> list[T]:
    """Those of the waiting list (in arrival order) who get the seats now free."""
    if capacity is None:
        return list(waiting)
    return list(waiting[: max(0, capacity - going)])


# --- reminder planning ----------------------------------------------------------------------------
@dataclass(frozen=True)
class PlannedEvent:
    """What planning needs of an event: its start, when that start was set, and the
    reminders already handled for it (delay in seconds, the start they were for)."""

    id: int
    starts_at: datetime
    scheduled_at: datetime
    done: frozenset[tuple[int, datetime]] = frozenset()


@dataclass(frozen=True)
class Reminder:
    event_id: int
    offset: timedelta
    starts_at: datetime

    @property
    def due_at(self) -> datetime:
        return self.starts_at - self.offset

    @property
    def offset_seconds(self) -> int:
        return int(self.offset.total_seconds())

    @property
    def mentions(self) -> bool:
        """A day ahead or less: it pings those who signed up (else a room notice)."""
        return self.offset <= NOTICE_BEYOND


@dataclass
class ReminderPlan:
    due: list[Reminder] = field(default_factory=list)  # to post now
    skipped: list[Reminder] = field(default_factory=list)  # missed, superseded by a later one
    next_at: datetime | None = None  # when the next reminder falls due


def plan_reminders(
    now: datetime, events: Iterable[PlannedEvent], offsets: Sequence[timedelta]
) -> ReminderPlan:
    """Which reminders to post at `now`.

    A reminder is owed when its moment (start − delay) came after the start was set (an
    event announced two days ahead owes no « J-7 »), and is posted only before the event
    starts. Several missed at once (the bot was down): only the closest to the start is
    posted, the others are skipped — one reminder, not a burst."""
    plan = ReminderPlan()
    for event in events:
        if event.starts_at <= now:
            continue
        owed = [
            Reminder(event.id, offset, event.starts_at)
            for offset in offsets
            if event.starts_at - offset > event.scheduled_at
            and (int(offset.total_seconds()), event.starts_at) not in event.done
        ]
        missed = sorted((r for r in owed if r.due_at <= now), key=lambda r: r.offset)
        if missed:
            plan.due.append(missed[0])
            plan.skipped.extend(missed[1:])
        for r in owed:
            if r.due_at > now and (plan.next_at is None or r.due_at < plan.next_at):
                plan.next_at = r.due_at
    plan.due.sort(key=lambda r: (r.starts_at, r.event_id))
    return plan
