"""iCalendar files (RFC 5545) that calendars import: one event for an announcement, the
whole agenda for `!agenda ics`.

Made with `icalendar`: times are written in the network's zone (`DTSTART;TZID=Europe/Paris`)
with the matching VTIMEZONE, so a calendar elsewhere shows the right hour, summer time
included. The UID is stable per event and SEQUENCE rises with each change, so importing
a newer file updates the event instead of adding a copy; a cancelled event is sent with
STATUS:CANCELLED."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from bot.text import fold

PRODID = "-//OASIS//oasis-bot//FR"
MIME = "text/calendar"


@dataclass(frozen=True)
class CalendarEntry:
    uid: str
    title: str
    starts_at: datetime
    ends_at: datetime
    description: str = ""
    location: str | None = None
    url: str | None = None
    sequence: int = 0
    cancelled: bool = False


def build_calendar(
    entries: Sequence[CalendarEntry], tz: ZoneInfo, *, name: str, now: datetime | None = None
) -> bytes:
    """The calendar file holding `entries`, times in `tz`."""
    # Loaded on first use: 3 MB and half a second at start, for a file made now and then.
    from icalendar import Calendar
    from icalendar import Event as VEvent

    stamp = (now or datetime.now(UTC)).astimezone(UTC).replace(microsecond=0)
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", name)
    cal.add("x-wr-timezone", str(tz.key))
    for entry in entries:
        ev = VEvent()
        ev.add("uid", entry.uid)
        ev.add("dtstamp", stamp)
        ev.add("dtstart", entry.starts_at.astimezone(tz).replace(microsecond=0))
        ev.add("dtend", entry.ends_at.astimezone(tz).replace(microsecond=0))
        ev.add("summary", entry.title)
        if entry.description:
            ev.add("description", entry.description)
        if entry.location:
            ev.add("location", entry.location)
        if entry.url:
            ev.add("url", entry.url)
        ev.add("sequence", entry.sequence)
        ev.add("status", "CANCELLED" if entry.cancelled else "CONFIRMED")
        cal.add_component(ev)
    if entries:
        # The zone's rules only for the years the file needs (from 1970 they fill pages).
        first = min(e.starts_at for e in entries).astimezone(tz).date()
        last = max(e.ends_at for e in entries).astimezone(tz).date()
        cal.add_missing_timezones(first_date=date(first.year - 1, 1, 1), last_date=date(last.year + 2, 1, 1))
    return bytes(cal.to_ical())


def file_name(stem: str) -> str:
    """A file name calendars and chat clients accept: letters, digits and dashes."""
    safe = "".join(ch if ch.isascii() and ch.isalnum() else "-" for ch in fold(stem))
    while "--" in safe:
        safe = safe.replace("--", "-")
    return (safe.strip("-")[:60] or "evenement") + ".ics"
