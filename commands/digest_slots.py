"""When the weekly digest is due: pure functions of « now », the weekday, the time and the
time zone, so the schedule is tested with a frozen clock."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.dates import iso_week


def local_moment(day: date, at: time, tz: ZoneInfo) -> datetime:
    """`day` at `at` wall-clock time in `tz`; a time skipped by the spring DST change is
    moved past the gap (02:30 → 03:30), an ambiguous autumn time is its first occurrence."""
    naive = datetime.combine(day, at)
    aware = naive.replace(tzinfo=tz)
    back = aware.astimezone(ZoneInfo("UTC")).astimezone(tz)
    return back if back.replace(tzinfo=None) != naive else aware


def last_slot(now: datetime, weekday: int, at: time, tz: ZoneInfo) -> datetime:
    """The latest scheduled moment at or before `now`."""
    local = now.astimezone(tz)
    day = local.date() - timedelta(days=(local.weekday() - weekday) % 7)
    slot = local_moment(day, at, tz)
    if slot > now:
        slot = local_moment(day - timedelta(days=7), at, tz)
    return slot


def next_slot(now: datetime, weekday: int, at: time, tz: ZoneInfo) -> datetime:
    """The next scheduled moment strictly after `now`."""
    previous = last_slot(now, weekday, at, tz)
    return local_moment(previous.astimezone(tz).date() + timedelta(days=7), at, tz)


def grace_end(slot: datetime, grace_hours: int | None, tz: ZoneInfo) -> datetime:
    """Until when a missed digest is still posted: the end of the scheduled day (local
    midnight), or `grace_hours` after the slot."""
    if grace_hours is None:
        return local_moment(slot.astimezone(tz).date() + timedelta(days=1), time(0, 0), tz)
    return slot + timedelta(hours=grace_hours)


def due_slot(now: datetime, weekday: int, at: time, tz: ZoneInfo, grace_hours: int | None) -> datetime | None:
    """The slot whose digest should be posted at `now`, if any."""
    slot = last_slot(now, weekday, at, tz)
    return slot if now < grace_end(slot, grace_hours, tz) else None


def week_of(slot: datetime, tz: ZoneInfo) -> str:
    return iso_week(slot.astimezone(tz).date())
