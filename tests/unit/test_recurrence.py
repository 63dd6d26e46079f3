"""The recurrence grammar shared by the pulse cadence and the scheduled announcements, with
a frozen `now` in Europe/Paris: phrases, cron, storage round trip, DST, what is due."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

import bot.dates
from bot.dates import DateError
from bot.i18n import Catalog, Translator
from schedules.recurrence import Recurrence, parse_recurrence, split_recurrence

PARIS = ZoneInfo("Europe/Paris")
# Wednesday 10 December 2025, 15:00 in Paris.
NOW = datetime(2025, 12, 10, 15, 0, tzinfo=PARIS)


def at(y: int, mo: int, d: int, h: int = 0, mi: int = 0, s: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, s, tzinfo=PARIS)


def upcoming(rec: Recurrence, moment: datetime, n: int = 3) -> list[datetime]:
    out: list[datetime] = []
    for _ in range(n):
        nxt = rec.next_after(moment)
        assert nxt is not None
        out.append(nxt)
        moment = nxt
    return out


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return Catalog.load([Path(bot.dates.__file__).parent / "locales"])


@pytest.fixture(scope="module")
def fr(catalog: Catalog) -> Translator:
    return catalog.translator("fr", PARIS)


@pytest.fixture(scope="module")
def en(catalog: Catalog) -> Translator:
    return catalog.translator("en", PARIS)


def plain(text: str) -> str:
    return text.replace("\u00a0", " ").replace("\u202f", " ")


# --- the table: phrase → its next three occurrences after NOW, and how it is described ------

TABLE: list[tuple[str, list[datetime], str]] = [
    (
        "chaque lundi 9h",
        [at(2025, 12, 15, 9), at(2025, 12, 22, 9), at(2025, 12, 29, 9)],
        "chaque lundi à 9 h",
    ),
    (
        "tous les lundis à 9 h",
        [at(2025, 12, 15, 9), at(2025, 12, 22, 9), at(2025, 12, 29, 9)],
        "chaque lundi à 9 h",
    ),
    (
        "chaque jour à 8h",
        [at(2025, 12, 11, 8), at(2025, 12, 12, 8), at(2025, 12, 13, 8)],
        "chaque jour à 8 h",
    ),
    (
        "chaque mercredi à 16h",  # today, still to come
        [at(2025, 12, 10, 16), at(2025, 12, 17, 16), at(2025, 12, 24, 16)],
        "chaque mercredi à 16 h",
    ),
    (
        "chaque mois",  # the start's day of the month, at 9 h
        [at(2026, 1, 10, 9), at(2026, 2, 10, 9), at(2026, 3, 10, 9)],
        "chaque mois, le 10 à 9 h, à partir du mercredi 10 décembre 2025",
    ),
    (
        "chaque 1er lundi à 10h",
        [at(2026, 1, 5, 10), at(2026, 2, 2, 10), at(2026, 3, 2, 10)],
        "chaque premier lundi du mois à 10 h",
    ),
    (
        "le premier lundi de chaque mois",
        [at(2026, 1, 5, 9), at(2026, 2, 2, 9), at(2026, 3, 2, 9)],
        "chaque premier lundi du mois à 9 h",
    ),
    (
        "chaque dernier vendredi du mois 17h",
        [at(2025, 12, 26, 17), at(2026, 1, 30, 17), at(2026, 2, 27, 17)],
        "chaque dernier vendredi du mois à 17 h",
    ),
    (
        "chaque deuxième mardi du mois à 14h",
        [at(2026, 1, 13, 14), at(2026, 2, 10, 14), at(2026, 3, 10, 14)],
        "chaque deuxième mardi du mois à 14 h",
    ),
    (
        "toutes les deux semaines",  # the start's weekday; today's 9 h has passed
        [at(2025, 12, 24, 9), at(2026, 1, 7, 9), at(2026, 1, 21, 9)],
        "toutes les 2 semaines, le mercredi à 9 h, à partir du mercredi 10 décembre 2025",
    ),
    (
        "toutes les deux semaines à partir du 5 janvier à 10h",
        [at(2026, 1, 5, 10), at(2026, 1, 19, 10), at(2026, 2, 2, 10)],
        "toutes les 2 semaines, le lundi à 10 h, à partir du lundi 5 janvier 2026",
    ),
    (
        "un lundi sur deux",  # from the next Monday
        [at(2025, 12, 15, 9), at(2025, 12, 29, 9), at(2026, 1, 12, 9)],
        "toutes les 2 semaines, le lundi à 9 h, à partir du mercredi 10 décembre 2025",
    ),
    (
        "chaque 15 du mois",
        [at(2025, 12, 15, 9), at(2026, 1, 15, 9), at(2026, 2, 15, 9)],
        "chaque mois, le 15 à 9 h",
    ),
    (
        "le 15 de chaque mois à 8h30",
        [at(2025, 12, 15, 8, 30), at(2026, 1, 15, 8, 30), at(2026, 2, 15, 8, 30)],
        "chaque mois, le 15 à 8 h 30",
    ),
    (
        "chaque 31 du mois",  # the last day of shorter months
        [at(2025, 12, 31, 9), at(2026, 1, 31, 9), at(2026, 2, 28, 9)],
        "chaque mois, le 31 (ou le dernier jour des mois plus courts) à 9 h",
    ),
    (
        "chaque fin de mois à 18h",
        [at(2025, 12, 31, 18), at(2026, 1, 31, 18), at(2026, 2, 28, 18)],
        "chaque mois, le dernier jour à 18 h",
    ),
    (
        "tous les 2 mois le 15",
        [at(2025, 12, 15, 9), at(2026, 2, 15, 9), at(2026, 4, 15, 9)],
        "tous les 2 mois, le 15 à 9 h, à partir du mercredi 10 décembre 2025",
    ),
    (
        "du lundi au vendredi à 8h",
        [at(2025, 12, 11, 8), at(2025, 12, 12, 8), at(2025, 12, 15, 8)],
        "du lundi au vendredi à 8 h",
    ),
    (
        "tous les lundis et jeudis à 9h30",
        [at(2025, 12, 11, 9, 30), at(2025, 12, 15, 9, 30), at(2025, 12, 18, 9, 30)],
        "chaque lundi et jeudi à 9 h 30",
    ),
    (
        "chaque année le 1er septembre",
        [at(2026, 9, 1, 9), at(2027, 9, 1, 9), at(2028, 9, 1, 9)],
        "chaque année, le 1er septembre à 9 h",
    ),
    (
        "tous les 3 jours",
        [at(2025, 12, 13, 9), at(2025, 12, 16, 9), at(2025, 12, 19, 9)],
        "tous les 3 jours à 9 h, à partir du mercredi 10 décembre 2025",
    ),
    (
        "toutes les heures",
        [at(2025, 12, 10, 16), at(2025, 12, 10, 17), at(2025, 12, 10, 18)],
        "toutes les heures",
    ),
    (
        "toutes les 10 secondes",
        [at(2025, 12, 10, 15, 0, 10), at(2025, 12, 10, 15, 0, 20), at(2025, 12, 10, 15, 0, 30)],
        "toutes les 10 secondes",
    ),
    # English
    (
        "every monday 9am",
        [at(2025, 12, 15, 9), at(2025, 12, 22, 9), at(2025, 12, 29, 9)],
        "chaque lundi à 9 h",
    ),
    (
        "every day at 8",
        [at(2025, 12, 11, 8), at(2025, 12, 12, 8), at(2025, 12, 13, 8)],
        "chaque jour à 8 h",
    ),
    (
        "every first monday at 10am",
        [at(2026, 1, 5, 10), at(2026, 2, 2, 10), at(2026, 3, 2, 10)],
        "chaque premier lundi du mois à 10 h",
    ),
    (
        "every last friday of the month 5pm",
        [at(2025, 12, 26, 17), at(2026, 1, 30, 17), at(2026, 2, 27, 17)],
        "chaque dernier vendredi du mois à 17 h",
    ),
    (
        "every other week",
        [at(2025, 12, 24, 9), at(2026, 1, 7, 9), at(2026, 1, 21, 9)],
        "toutes les 2 semaines, le mercredi à 9 h, à partir du mercredi 10 décembre 2025",
    ),
    (
        "every 15th of the month",
        [at(2025, 12, 15, 9), at(2026, 1, 15, 9), at(2026, 2, 15, 9)],
        "chaque mois, le 15 à 9 h",
    ),
    (
        "weekdays at 9",
        [at(2025, 12, 11, 9), at(2025, 12, 12, 9), at(2025, 12, 15, 9)],
        "du lundi au vendredi à 9 h",
    ),
    # cron
    (
        "cron 0 9 * * 1",
        [at(2025, 12, 15, 9), at(2025, 12, 22, 9), at(2025, 12, 29, 9)],
        "selon le cron « 0 9 * * 1 »",
    ),
    (
        "30 8 * * mon-fri",
        [at(2025, 12, 11, 8, 30), at(2025, 12, 12, 8, 30), at(2025, 12, 15, 8, 30)],
        "selon le cron « 30 8 * * mon-fri »",
    ),
    (
        "cron 0 9 1 * 1",  # cron's rule: day of month OR weekday
        [at(2025, 12, 15, 9), at(2025, 12, 22, 9), at(2025, 12, 29, 9)],
        "selon le cron « 0 9 1 * 1 »",
    ),
    (
        "cron */20 14-15 10 12 *",
        [at(2025, 12, 10, 15, 20), at(2025, 12, 10, 15, 40), at(2026, 12, 10, 14)],
        "selon le cron « */20 14-15 10 12 * »",
    ),
    (
        "cron 0,30 9 * * 1-5",
        [at(2025, 12, 11, 9), at(2025, 12, 11, 9, 30), at(2025, 12, 12, 9)],
        "selon le cron « 0,30 9 * * 1-5 »",
    ),
    (
        "@daily",
        [at(2025, 12, 11), at(2025, 12, 12), at(2025, 12, 13)],
        "selon le cron « 0 0 * * * »",
    ),
]


@pytest.mark.parametrize(("text", "expected", "french"), TABLE, ids=[t[0] for t in TABLE])
def test_recurrence_table(text: str, expected: list[datetime], french: str, fr: Translator) -> None:
    rec = parse_recurrence(text, NOW)
    assert upcoming(rec, NOW) == expected
    assert plain(rec.describe(fr)) == french


def test_the_tables_hold_forty_phrases() -> None:
    from tests.unit.test_dates_when import PHRASES

    assert len(TABLE) + len(PHRASES) >= 40
    assert len(TABLE) >= 30


@pytest.mark.parametrize(
    ("text", "english"),
    [
        ("chaque lundi 9h", "every Monday at 9:00"),
        ("chaque 1er lundi à 10h", "every first Monday of the month at 10:00"),
        ("chaque fin de mois", "every month on the last day at 9:00"),
        ("du lundi au vendredi à 8h", "Monday to Friday at 8:00"),
        ("toutes les 30 minutes", "every 30 minutes"),
        (
            "toutes les deux semaines à partir du 5 janvier",
            "every 2 weeks on Monday at 9:00, from Monday 5 January 2026",
        ),
        ("chaque année le 14 juillet à 10h", "every year on 14 July at 10:00"),
        ("cron 0 9 * * 1", "on cron « 0 9 * * 1 »"),
    ],
)
def test_describe_in_english(text: str, english: str, en: Translator) -> None:
    assert parse_recurrence(text, NOW).describe(en) == english


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("lundi 9h", "recurrence.errors.one_off"),  # a one-off, not a recurrence
        ("n'importe quoi", "recurrence.errors.unreadable"),
        ("chaque lundi 25h", "recurrence.errors.unreadable"),
        ("chaque lundi à 9h et 14h", "recurrence.errors.unreadable"),
        ("toutes les heures le lundi", "recurrence.errors.unreadable"),
        ("tous les 400 jours", "recurrence.errors.unreadable"),
        ("chaque lundi à partir de la saint-glinglin", "recurrence.errors.start"),
        ("cron 61 * * * *", "recurrence.errors.cron"),
        ("cron 0 9 * *", "recurrence.errors.cron"),
        ("cron 0 9 * * 8", "recurrence.errors.cron"),
        ("cron 0 0 30 2 *", "recurrence.errors.never"),
        ("cron tous les lundis", "recurrence.errors.cron"),
        ("", "date.errors.empty"),
        ("chaque " * 30, "date.errors.too_long"),
    ],
)
def test_recurrence_errors(text: str, key: str) -> None:
    with pytest.raises(DateError) as caught:
        parse_recurrence(text, NOW)
    assert caught.value.key == key


@pytest.mark.parametrize(
    ("text", "french"),
    [
        (
            "lundi 9h",
            "« lundi 9h » est une date, pas une fréquence : "
            "pour chaque semaine, écrivez « chaque lundi 9h ».",
        ),
        (
            "Monday 9am",
            "« Monday 9am » est une date, pas une fréquence : "
            "pour chaque semaine, écrivez « every Monday 9am ».",
        ),
    ],
)
def test_a_one_off_date_is_told_how_to_repeat(text: str, french: str, fr: Translator) -> None:
    with pytest.raises(DateError) as caught:
        parse_recurrence(text, NOW)
    assert plain(fr.t(caught.value.key, **caught.value.params)) == french


def test_cron_with_a_colon() -> None:
    assert parse_recurrence("cron: 0 9 * * 1", NOW) == parse_recurrence("0 9 * * 1", NOW)


@pytest.mark.parametrize(
    ("text", "rule", "rest"),
    [
        ("chaque mois Le réseau vous a-t-il été utile ?", "chaque mois", "Le réseau vous a-t-il été utile ?"),
        ("chaque lundi à 9h Comment allez-vous ?", "chaque lundi à 9h", "Comment allez-vous ?"),
        ("toutes les deux semaines  Quoi de neuf ?", "toutes les deux semaines", "Quoi de neuf ?"),
        ("chaque 1er lundi à 10h", "chaque 1er lundi à 10h", ""),
        ("every monday 9am How useful was it?", "every monday 9am", "How useful was it?"),
    ],
)
def test_split_recurrence(text: str, rule: str, rest: str) -> None:
    rec, after = split_recurrence(text, NOW)
    assert rec == parse_recurrence(rule, NOW)
    assert after == rest


def test_split_recurrence_without_one() -> None:
    with pytest.raises(DateError) as caught:
        split_recurrence("Bonjour chaque mois", NOW)
    assert caught.value.key == "recurrence.errors.unreadable"
    assert caught.value.params["value"] == "Bonjour chaque mois"


def test_split_recurrence_reads_a_bounded_number_of_words() -> None:
    question = "mot " * 50_000
    rec, after = split_recurrence("chaque lundi " + question, NOW)
    assert rec == parse_recurrence("chaque lundi", NOW)
    assert after == question.strip()


def test_an_error_gives_examples(fr: Translator) -> None:
    with pytest.raises(DateError) as caught:
        parse_recurrence("de temps en temps", NOW)
    text = plain(fr.t(caught.value.key, **caught.value.params))
    assert text.startswith("Je n'ai pas compris la fréquence « de temps en temps »")
    assert "« chaque lundi 9h »" in text and "« cron 0 9 * * 1 »" in text


# --- storing -------------------------------------------------------------------------------


@pytest.mark.parametrize("text", [t[0] for t in TABLE])
def test_round_trip_through_text(text: str) -> None:
    rec = parse_recurrence(text, NOW)
    stored = rec.to_json()
    again = Recurrence.from_json(stored)
    assert again == rec
    assert again.to_json() == stored
    assert upcoming(again, NOW, 5) == upcoming(rec, NOW, 5)


def test_stored_text_is_compact_and_stable() -> None:
    assert parse_recurrence("chaque lundi 9h", NOW).to_json() == (
        '{"at":"09:00:00","kind":"weekly","tz":"Europe/Paris","v":1,"weekdays":[0]}'
    )
    assert parse_recurrence("cron 0 9 * * 1", NOW).to_json() == (
        '{"cron":"0 9 * * 1","kind":"cron","tz":"Europe/Paris","v":1}'
    )


@pytest.mark.parametrize(
    "text",
    [
        "not json",
        "[]",
        '{"v":2,"kind":"daily"}',
        '{"v":1}',
        '{"v":1,"kind":"hourly"}',
        '{"v":1,"kind":"weekly","weekdays":[9]}',
        '{"v":1,"kind":"weekly","weekdays":[]}',
        '{"v":1,"kind":"daily","every":2}',  # an interval without its start
        '{"v":1,"kind":"cron","cron":"0 0 30 2 *"}',
        '{"v":1,"kind":"daily","tz":"Mars/Olympus"}',
    ],
)
def test_from_json_refuses_what_is_not_a_rule(text: str) -> None:
    with pytest.raises(ValueError):
        Recurrence.from_json(text)


def test_the_zone_is_stored() -> None:
    now = datetime(2025, 12, 10, 15, 0, tzinfo=ZoneInfo("America/Montreal"))
    rec = Recurrence.from_json(parse_recurrence("chaque jour à 9h", now).to_json())
    assert rec.tz == "America/Montreal"
    nxt = rec.next_after(now)
    assert nxt is not None and nxt.astimezone(UTC) == datetime(2025, 12, 11, 14, 0, tzinfo=UTC)


# --- daylight saving time ------------------------------------------------------------------

# Summer time starts on the last Sunday of March (29 March 2026, 28 March 2027) and ends on the
# last Sunday of October (25 October 2026, 31 October 2027).


@pytest.mark.parametrize(("year", "sunday"), [(2026, 29), (2027, 28)])
def test_nine_stays_nine_across_the_spring_change(year: int, sunday: int) -> None:
    rec = parse_recurrence("chaque jour à 9h", NOW)
    days = upcoming(rec, at(year, 3, sunday - 1, 12), 3)
    assert [(d.day, d.hour, d.utcoffset()) for d in days] == [
        (sunday, 9, timedelta(hours=2)),
        (sunday + 1, 9, timedelta(hours=2)),
        (sunday + 2, 9, timedelta(hours=2)),
    ]


@pytest.mark.parametrize(("year", "sunday"), [(2026, 25), (2027, 31)])
def test_nine_stays_nine_across_the_autumn_change(year: int, sunday: int) -> None:
    rec = parse_recurrence("chaque dimanche 9h", NOW)
    before, on_the_day = upcoming(rec, at(year, 10, sunday - 8, 12), 2)
    assert (before.hour, before.utcoffset()) == (9, timedelta(hours=2))
    assert (on_the_day.day, on_the_day.hour, on_the_day.utcoffset()) == (sunday, 9, timedelta(hours=1))
    assert on_the_day.astimezone(UTC) - before.astimezone(UTC) == timedelta(days=7, hours=1)


@pytest.mark.parametrize(("year", "sunday"), [(2026, 29), (2027, 28)])
def test_a_time_skipped_in_spring_happens_after_the_gap(year: int, sunday: int) -> None:
    rec = parse_recurrence("chaque dimanche à 2h30", NOW)
    occ = rec.next_after(at(year, 3, sunday - 1, 12))
    assert occ is not None
    assert occ.astimezone(UTC) == datetime(year, 3, sunday, 1, 30, tzinfo=UTC)
    assert (occ.hour, occ.minute) == (3, 30)
    assert rec.key(occ) == f"{year}-03-{sunday}T03:30:00"
    nxt = rec.next_after(occ)
    assert nxt is not None and (nxt.day, nxt.hour, nxt.minute) == (sunday + 7 - 31, 2, 30)


@pytest.mark.parametrize(("year", "sunday"), [(2026, 25), (2027, 31)])
def test_a_time_repeated_in_autumn_happens_once(year: int, sunday: int) -> None:
    rec = parse_recurrence("chaque jour à 2h30", NOW)
    first = rec.next_after(at(year, 10, sunday, 1, 0))
    assert first is not None and first.utcoffset() == timedelta(hours=2)
    # an hour later the wall clock shows 2:15 again (winter time): no second 2:30 that day
    second_pass = datetime(year, 10, sunday, 1, 15, tzinfo=UTC).astimezone(PARIS)
    assert (second_pass.hour, second_pass.minute, second_pass.fold) == (2, 15, 1)
    nxt = rec.next_after(second_pass)
    assert nxt is not None and nxt.date() == date(year, 10, sunday) + timedelta(days=1)


def test_cron_follows_wall_time_across_the_autumn_change() -> None:
    rec = parse_recurrence("cron */30 1-3 * * *", NOW)
    got = upcoming(rec, at(2026, 10, 25, 0, 0), 6)
    assert [rec.key(o)[11:16] for o in got] == ["01:00", "01:30", "02:00", "02:30", "03:00", "03:30"]
    assert all(b.astimezone(UTC) > a.astimezone(UTC) for a, b in pairwise(got))


def test_hourly_is_elapsed_time_across_the_spring_change() -> None:
    rec = parse_recurrence("toutes les heures", at(2026, 3, 29, 0, 30))
    got = upcoming(rec, at(2026, 3, 29, 0, 30), 3)
    assert [o.hour for o in got] == [1, 3, 4]  # 2 h does not exist that night


# --- what is due ---------------------------------------------------------------------------


def test_due_is_the_latest_occurrence_within_grace() -> None:
    rec = parse_recurrence("chaque lundi 9h", NOW)
    created = at(2025, 12, 1, 12)
    grace = timedelta(hours=2)
    monday = at(2025, 12, 15, 9)
    assert rec.due(at(2025, 12, 15, 8, 59), after=created, grace=grace) is None  # not yet
    assert rec.due(monday, after=created, grace=grace) == monday  # on time
    assert rec.due(at(2025, 12, 15, 10, 30), after=created, grace=grace) == monday  # late, within grace
    assert rec.due(at(2025, 12, 15, 11, 0, 1), after=created, grace=grace) is None  # too late
    assert rec.due(at(2025, 12, 15, 10), after=monday, grace=grace) is None  # already done


def test_due_after_a_long_outage_runs_the_latest_once() -> None:
    rec = parse_recurrence("toutes les 10 secondes", at(2025, 12, 10, 0, 0))
    done = at(2025, 12, 10, 15, 0, 0)
    back = at(2025, 12, 10, 15, 5, 3)  # down for five minutes: 30 occurrences missed
    due = rec.due(back, after=done, grace=timedelta(seconds=5))
    assert due == at(2025, 12, 10, 15, 5, 0)
    assert rec.due(back, after=due, grace=timedelta(seconds=5)) is None


def test_due_ignores_occurrences_before_the_creation() -> None:
    rec = parse_recurrence("chaque mercredi à 14h", NOW)
    # created at 15:00, after today's 14:00: nothing is due even within a day's grace
    assert rec.due(NOW, after=NOW, grace=timedelta(days=1)) is None


def test_due_grace_is_elapsed_time_across_the_autumn_change() -> None:
    rec = parse_recurrence("chaque dimanche à 1h30", NOW)
    slot = at(2026, 10, 25, 1, 30)
    # 1 h 59 of real time later the wall clock reads 2:29 winter time (the hour repeats)
    later = slot.astimezone(UTC) + timedelta(hours=1, minutes=59)
    assert rec.due(later.astimezone(PARIS), after=NOW, grace=timedelta(hours=2)) == slot
    too_late = slot.astimezone(UTC) + timedelta(hours=2, seconds=1)
    assert rec.due(too_late.astimezone(PARIS), after=NOW, grace=timedelta(hours=2)) is None


def test_last_at_or_before_and_start() -> None:
    rec = parse_recurrence("chaque lundi à partir du 5 janvier", NOW)
    assert rec.last_at_or_before(at(2026, 1, 4, 12)) is None  # before the start
    assert rec.last_at_or_before(at(2026, 1, 5, 9)) == at(2026, 1, 5, 9)
    assert rec.last_at_or_before(at(2026, 1, 14, 12)) == at(2026, 1, 12, 9)


def test_keys_are_distinct_and_stable() -> None:
    rec = parse_recurrence("toutes les 30 minutes", NOW)
    occurrences = upcoming(rec, NOW, 96)
    keys = [rec.key(o) for o in occurrences]
    assert len(set(keys)) == len(keys)
    assert keys[0] == "2025-12-10T15:30:00"
    assert rec.key(occurrences[0].astimezone(UTC)) == keys[0]


def test_default_time_is_configurable() -> None:
    rec = parse_recurrence("chaque lundi", NOW, default_time=time(10, 0))
    assert rec.next_after(NOW) == at(2025, 12, 15, 10)
