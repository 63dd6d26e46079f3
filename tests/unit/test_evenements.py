"""Events without a homeserver: reading `<quand>` (the turn of the year, summer-time
weekends, ranges, seconds), the .ics files read back with icalendar, reminder planning
with a frozen clock, and the waiting list."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import icalendar
import pytest

from bot.errors import UserError
from commands.evenements.ics import CalendarEntry, build_calendar, file_name
from commands.evenements.parsing import parse_capacity, parse_new, parse_when
from commands.evenements.service import (
    PlannedEvent,
    plan_reminders,
    status_for_newcomer,
    to_promote,
)

PARIS = ZoneInfo("Europe/Paris")


def paris(*args: int) -> datetime:
    return datetime(*args, tzinfo=PARIS)  # type: ignore[misc]


# --- <quand> ------------------------------------------------------------------------------------
WHEN_CASES = [
    # (now, typed, start, end)
    (paris(2026, 12, 28, 10), "2/1 à 9h30", paris(2027, 1, 2, 9, 30), None),  # the turn of the year
    (paris(2026, 12, 31, 18), "demain 10h", paris(2027, 1, 1, 10), None),
    (paris(2026, 12, 31, 18), "31/12 22h-23h30", paris(2026, 12, 31, 22), paris(2026, 12, 31, 23, 30)),
    (paris(2026, 12, 30, 9), "lundi prochain 14h", paris(2027, 1, 4, 14), None),
    (
        paris(2026, 12, 2, 11),
        "16 décembre 2026 14:00-15:30",
        paris(2026, 12, 16, 14),
        paris(2026, 12, 16, 15, 30),
    ),
    (
        paris(2026, 12, 2, 11),
        "mardi prochain de 14h à 15h30",
        paris(2026, 12, 8, 14),
        paris(2026, 12, 8, 15, 30),
    ),
    (paris(2026, 12, 2, 11), "16/12 à 9h30", paris(2026, 12, 16, 9, 30), None),
    (paris(2026, 12, 2, 11), "dans 10 minutes", paris(2026, 12, 2, 11, 10), None),
    (paris(2026, 12, 2, 11), "dans 30 secondes", paris(2026, 12, 2, 11, 0, 30), None),
    # Summer-time weekends: the last Sunday of March and of October 2027.
    (paris(2027, 3, 25, 9), "28/03/2027 10h", paris(2027, 3, 28, 10), None),
    (paris(2027, 3, 25, 9), "samedi 27 mars 2027 18h-20h", paris(2027, 3, 27, 18), paris(2027, 3, 27, 20)),
    (paris(2027, 10, 28, 9), "31/10/2027 9h30", paris(2027, 10, 31, 9, 30), None),
]


@pytest.mark.parametrize(("now", "typed", "start", "end"), WHEN_CASES)
def test_when(now: datetime, typed: str, start: datetime, end: datetime | None) -> None:
    when = parse_when(typed, now)
    assert when.starts_at == start and when.ends_at == end
    assert when.starts_at.utcoffset() == start.utcoffset()


def test_summer_time_offsets_around_the_change() -> None:
    before = parse_when("27/03/2027 10h", paris(2027, 3, 20, 9)).starts_at
    after = parse_when("28/03/2027 10h", paris(2027, 3, 20, 9)).starts_at
    assert before.utcoffset() == timedelta(hours=1) and after.utcoffset() == timedelta(hours=2)
    # 24 wall-clock hours apart, 23 real ones.
    assert after.astimezone(UTC) - before.astimezone(UTC) == timedelta(hours=23)


@pytest.mark.parametrize(
    ("typed", "key"),
    [
        ("hier 10h", "date.errors.past"),
        ("2/12/2026 10h", "date.errors.past"),
        ("bientôt", "date.errors.unreadable"),
        ("16/12 15h-14h", "date.errors.end_before_start"),
        ("16/12", "evenements.errors.no_time"),
        ("", "evenements.errors.no_when"),
    ],
)
def test_when_refused(typed: str, key: str) -> None:
    with pytest.raises(UserError) as err:
        parse_when(typed, paris(2026, 12, 2, 11))
    assert err.value.key == key


def test_new_event_fields() -> None:
    now = paris(2026, 12, 2, 11)
    draft = parse_new(
        "webinaire",
        "mardi prochain 14h | IA et service public | www.visio.fr/oasis | Échanges | 30 places",
        now,
    )
    assert draft.title == "IA et service public" and draft.link == "https://www.visio.fr/oasis"
    assert draft.description == "Échanges" and draft.capacity == 30
    meeting = parse_new("rencontre", "16/12 9h30-17h | Rencontre régionale | Hôtel de Région, Toulouse", now)
    assert meeting.place == "Hôtel de Région, Toulouse" and meeting.link is None
    assert meeting.when.ends_at == paris(2026, 12, 16, 17)
    for bad, key in [
        ("demain 10h | Titre", "evenements.errors.fields_webinaire"),
        ("demain 10h | Titre | pas un lien", "evenements.errors.bad_link"),
        ("demain 10h | T | https://x.fr", "evenements.errors.no_title"),
    ]:
        with pytest.raises(UserError) as err:
            parse_new("webinaire", bad, now)
        assert err.value.key == key
    assert parse_capacity("aucune") is None and parse_capacity("places : 12") == 12
    with pytest.raises(UserError):
        parse_capacity("beaucoup")


# --- .ics ----------------------------------------------------------------------------------------
def test_ics_reads_back_with_its_time_zone() -> None:
    entry = CalendarEntry(
        uid="oasis-evenement-7@exemple.fr",
        title="Sobriété numérique",
        starts_at=paris(2027, 3, 30, 14),  # summer time
        ends_at=paris(2027, 3, 30, 15, 30),
        description="Échanges\nLien : https://visio.fr/x",
        location="https://visio.fr/x",
        url="https://visio.fr/x",
        sequence=2,
    )
    data = build_calendar([entry], PARIS, name="OASIS", now=datetime(2026, 12, 2, 10, tzinfo=UTC))
    cal = icalendar.Calendar.from_ical(data)
    assert cal["VERSION"] == "2.0" and cal["PRODID"]
    assert [tz["TZID"] for tz in cal.walk("VTIMEZONE")] == ["Europe/Paris"]
    (ev,) = cal.walk("VEVENT")
    start = ev.decoded("DTSTART")
    assert start == paris(2027, 3, 30, 14) and start.utcoffset() == timedelta(hours=2)
    assert ev["DTSTART"].params["TZID"] == "Europe/Paris"
    assert ev.decoded("DTEND") == paris(2027, 3, 30, 15, 30)
    assert str(ev["SUMMARY"]) == "Sobriété numérique" and ev["UID"] == entry.uid
    assert int(ev["SEQUENCE"]) == 2 and str(ev["STATUS"]) == "CONFIRMED" and "DTSTAMP" in ev
    assert b"\r\n" in data  # RFC 5545 line endings


def test_ics_whole_calendar_and_a_cancellation() -> None:
    entries = [
        CalendarEntry(f"e{i}@x", f"Événement {i}", paris(2026, 12, 10 + i, 9), paris(2026, 12, 10 + i, 10))
        for i in range(3)
    ]
    entries.append(
        CalendarEntry("c@x", "Annulé", paris(2027, 1, 5, 9), paris(2027, 1, 5, 10), cancelled=True)
    )
    cal = icalendar.Calendar.from_ical(build_calendar(entries, PARIS, name="Agenda"))
    events = cal.walk("VEVENT")
    assert [str(e["UID"]) for e in events] == ["e0@x", "e1@x", "e2@x", "c@x"]
    assert str(events[-1]["STATUS"]) == "CANCELLED"
    assert file_name("Webinaire n° 7 : l'IA !") == "webinaire-n-7-l-ia.ics"


# --- reminder planning ------------------------------------------------------------------------------
OFFSETS = [timedelta(days=7), timedelta(days=1), timedelta(hours=1)]
T0 = datetime(2026, 12, 1, 9, tzinfo=UTC)


def ev(
    start: datetime, scheduled: datetime = T0, done: set[tuple[int, datetime]] | None = None, id: int = 1
) -> PlannedEvent:
    return PlannedEvent(id, start, scheduled, frozenset(done or ()))


def test_planning_on_time_then_next() -> None:
    start = T0 + timedelta(days=10)
    plan = plan_reminders(T0, [ev(start)], OFFSETS)
    assert plan.due == [] and plan.next_at == start - timedelta(days=7)
    at = start - timedelta(days=7)
    plan = plan_reminders(at, [ev(start)], OFFSETS)
    assert [r.offset for r in plan.due] == [timedelta(days=7)] and not plan.due[0].mentions
    done = {(7 * 86400, start)}
    plan = plan_reminders(at, [ev(start, done=done)], OFFSETS)
    assert plan.due == [] and plan.next_at == start - timedelta(days=1)
    plan = plan_reminders(start - timedelta(hours=1), [ev(start, done={*done, (86400, start)})], OFFSETS)
    assert [r.offset for r in plan.due] == [timedelta(hours=1)] and plan.due[0].mentions
    assert plan.next_at is None


def test_planning_owes_nothing_due_before_the_event_was_set() -> None:
    start = T0 + timedelta(days=2)  # announced two days ahead: no J-7
    plan = plan_reminders(T0 + timedelta(hours=1), [ev(start)], OFFSETS)
    assert plan.due == [] and plan.next_at == start - timedelta(days=1)


def test_planning_after_a_downtime_sends_only_the_closest_and_never_after_start() -> None:
    start = T0 + timedelta(days=10)
    late = start - timedelta(minutes=30)  # down since before J-7, back 30 min before
    plan = plan_reminders(late, [ev(start)], OFFSETS)
    assert [r.offset for r in plan.due] == [timedelta(hours=1)]
    assert sorted(r.offset for r in plan.skipped) == [timedelta(days=1), timedelta(days=7)]
    assert plan_reminders(start + timedelta(seconds=1), [ev(start)], OFFSETS).due == []


def test_planning_a_moved_event_plans_fresh_reminders() -> None:
    start = T0 + timedelta(days=10)
    done = {(7 * 86400, start), (86400, start)}
    moved = start + timedelta(days=7)
    changed_at = start - timedelta(hours=12)
    plan = plan_reminders(changed_at, [ev(moved, scheduled=changed_at, done=done)], OFFSETS)
    assert plan.due == [] and plan.next_at == moved - timedelta(days=7)


def test_planning_many_events_next_wakeup_and_seconds() -> None:
    offsets = [timedelta(seconds=30), timedelta(seconds=10)]
    now = T0
    events = [ev(now + timedelta(seconds=45), id=1), ev(now + timedelta(seconds=20), id=2)]
    plan = plan_reminders(now, events, offsets)
    assert [(r.event_id, r.offset_seconds) for r in plan.due] == []
    assert plan.next_at == now + timedelta(seconds=10)  # event 2's 10 s reminder
    plan = plan_reminders(now + timedelta(seconds=15), events, offsets)
    assert [(r.event_id, r.offset_seconds) for r in plan.due] == [(2, 10), (1, 30)]  # soonest first


# --- seats and delays -------------------------------------------------------------------------------
def test_waiting_list_rules() -> None:
    assert status_for_newcomer(None, 500) == "going"
    assert status_for_newcomer(2, 1) == "going" and status_for_newcomer(2, 2) == "waiting"
    assert to_promote(3, 1, ["a", "b", "c"]) == ["a", "b"]
    assert to_promote(3, 3, ["a"]) == [] and to_promote(None, 9, ["a", "b"]) == ["a", "b"]


def test_a_late_reminder_says_the_time_really_left() -> None:
    from commands.evenements.render import time_left

    start = T0 + timedelta(days=10)
    assert time_left(timedelta(days=7), start - timedelta(days=7), start) == timedelta(days=7)
    assert time_left(timedelta(days=7), start - timedelta(days=2, hours=5), start) == timedelta(days=2)
    assert time_left(timedelta(days=1), start - timedelta(hours=3, minutes=20), start) == timedelta(hours=3)
    assert time_left(timedelta(hours=1), start - timedelta(minutes=30, seconds=9), start) == timedelta(
        minutes=30
    )
    assert time_left(timedelta(seconds=25), start - timedelta(seconds=24), start) == timedelta(seconds=25)
