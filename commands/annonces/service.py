"""When a scheduled announcement is due, without Matrix or a database: a pure function
of « now », the announcement's rule (a moment, or a `Recurrence`), the last occurrence
handled and the grace period.

An occurrence missed while the bot was down is posted late only within the grace
period; older ones are skipped (recorded as handled, never posted). Several missed
occurrences give at most one post: the latest."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from schedules.recurrence import Recurrence


@dataclass(frozen=True)
class Step:
    """What to do now: handle `occurrence` (post it, or skip it when late beyond grace);
    `final`: nothing comes after it."""

    occurrence: datetime
    post: bool
    final: bool


def _utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC)


def due_step(
    now: datetime,
    *,
    at: datetime | None,
    rule: Recurrence | None,
    last: datetime | None,
    created: datetime,
    grace: timedelta,
) -> Step | None:
    """The occurrence to handle at `now`, if any."""
    if rule is None:
        if at is None or last is not None or _utc(at) > _utc(now):
            return None
        return Step(at, _utc(now) - _utc(at) <= grace, True)
    after = last or created
    latest = rule.last_at_or_before(now)
    if latest is None or _utc(latest) <= _utc(after):
        return None
    return Step(latest, _utc(now) - _utc(latest) <= grace, rule.next_after(now) is None)


def next_time(
    now: datetime, *, at: datetime | None, rule: Recurrence | None, last: datetime | None, created: datetime
) -> datetime | None:
    """When the announcement next needs the job (None: never again)."""
    if rule is None:
        return at if at is not None and last is None else None
    after = last or created
    return rule.next_after(max(now, after, key=_utc))
