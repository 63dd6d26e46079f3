"""How events read: the announcement, the echo of what was understood, agenda lines,
reminders and notices, and the calendar entry of an event. Every string comes from the
catalog; dates are written the French way, the year always shown (an event is planned
ahead, often across the turn of the year)."""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.dates_format import format_delay, format_when
from bot.formatting import Rich, bold, code, italic, join, lines, link
from bot.i18n import Translator
from commands.evenements.ics import CalendarEntry
from commands.evenements.service import WEBINAR
from storage.models.evenements import Event
from storage.repositories.evenements import Counts

SIGN_UP_KEY = "✅"


def when_text(tr: Translator, start: datetime, end: datetime | None) -> str:
    """« mardi 16 décembre 2026, 14 h – 15 h 30 »: in full, the year always shown."""
    return format_when(start, end, tr)


def agree(tr: Translator, event: Event) -> str:
    """The participle's ending for the event's kind (« annulé », « annulée »)."""
    return tr.t(f"evenements.agree.{event.kind}")


def kind_label(tr: Translator, event: Event, capital: bool = False) -> str:
    label = tr.t(f"evenements.kinds.{event.kind}")
    return label[:1].upper() + label[1:] if capital else label


def where(tr: Translator, event: Event) -> Rich:
    if event.kind == WEBINAR and event.link:
        return tr.rich("evenements.link_line", link=link(event.link))
    return tr.rich("evenements.place_line", place=event.place or "")


def seats(tr: Translator, event: Event, counts: Counts) -> Rich:
    if event.capacity is None:
        return tr.rich("evenements.count", n=counts.going)
    if counts.waiting:
        return tr.rich(
            "evenements.count_full_waiting", n=counts.going, capacity=event.capacity, waiting=counts.waiting
        )
    return tr.rich("evenements.count_capacity", n=counts.going, capacity=event.capacity)


def announcement(tr: Translator, event: Event, prefix: str = "!") -> Rich:
    head = tr.rich(
        "evenements.announce.head", kind=kind_label(tr, event, capital=True), id=event.id, title=event.title
    )
    parts: list[Rich] = [head, bold(when_text(tr, event.starts_at, event.ends_at)), where(tr, event)]
    if event.description:
        parts.append(italic(event.description))
    if event.capacity is not None:
        parts.append(tr.rich("evenements.announce.capacity", n=event.capacity))
    parts.append(
        tr.rich("evenements.announce.how", emoji=SIGN_UP_KEY, command=code(f"{prefix}participer {event.id}"))
    )
    return lines(parts)


def echo(tr: Translator, event: Event, rooms: int, here: bool) -> Rich:
    """What the animator reads back: everything the bot understood."""
    parts: list[Rich] = [
        tr.rich(
            "evenements.created",
            kind=kind_label(tr, event, capital=True),
            id=event.id,
            title=event.title,
            e=agree(tr, event),
        ),
        tr.rich("evenements.understood", when=when_text(tr, event.starts_at, event.ends_at)),
        where(tr, event),
    ]
    if event.description:
        parts.append(tr.rich("evenements.description_line", text=event.description))
    if event.capacity is not None:
        parts.append(tr.rich("evenements.announce.capacity", n=event.capacity))
    parts.append(tr.rich("evenements.announced_here" if here else "evenements.announced_in", n=rooms))
    return lines(parts)


def agenda_line(tr: Translator, event: Event, counts: Counts, mine: str | None) -> Rich:
    bits: list[object] = [
        bold(f"n° {event.id}")
        + " "
        + tr.rich("evenements.agenda.what", kind=kind_label(tr, event), title=event.title),
        when_text(tr, event.starts_at, None),
        seats(tr, event, counts),
    ]
    if mine:
        bits.append(tr.rich(f"evenements.agenda.mine_{mine}"))
    return join(bits, " · ")


def time_left(offset: timedelta, now: datetime, start: datetime) -> timedelta:
    """What a reminder says is left: its delay when on time; when it goes out late (the
    bot was down), the time really left, in its largest whole unit (« 2 jours »)."""
    left = start - now
    if left >= offset - timedelta(minutes=1):
        return offset
    for unit in (timedelta(days=1), timedelta(hours=1), timedelta(minutes=1)):
        if left >= unit:
            return unit * (left // unit)
    return max(timedelta(seconds=int(left.total_seconds())), timedelta(seconds=1))


def reminder(
    tr: Translator, event: Event, delay: timedelta, counts: Counts, now: datetime, prefix: str = "!"
) -> Rich:
    key = "evenements.reminder.soon" if delay <= timedelta(days=1) else "evenements.reminder.ahead"
    left = time_left(delay, now, event.starts_at)
    parts: list[Rich] = [
        tr.rich(
            key,
            kind=kind_label(tr, event),
            id=event.id,
            title=event.title,
            delay=format_delay(left, tr),
            when=when_text(tr, event.starts_at, event.ends_at),
        ),
        where(tr, event),
    ]
    if delay > timedelta(days=1):
        parts.append(
            seats(tr, event, counts)
            + " · "
            + tr.rich(
                "evenements.reminder.join", emoji=SIGN_UP_KEY, command=code(f"{prefix}participer {event.id}")
            )
        )
    return lines(parts)


def calendar_entry(event: Event, server: str, default_duration: timedelta) -> CalendarEntry:
    details = [event.description] if event.description else []
    if event.link:
        details.append(event.link)
    return CalendarEntry(
        uid=f"oasis-evenement-{event.id}@{server}",
        title=event.title,
        starts_at=event.starts_at,
        ends_at=event.ends_at or event.starts_at + default_duration,
        description="\n\n".join(details),
        location=event.place or event.link,
        url=event.link,
        sequence=event.sequence,
        cancelled=event.status == "cancelled",
    )
