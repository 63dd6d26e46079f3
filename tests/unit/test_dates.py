"""Reading the dates people type, with a frozen `now` in Europe/Paris."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.dates import iso_week, parse_date, parse_datetime

PARIS = ZoneInfo("Europe/Paris")
# Wednesday 10 December 2025, 15:00 in Paris.
NOW = datetime(2025, 12, 10, 15, 0, tzinfo=PARIS)


def at(y: int, mo: int, d: int, h: int = 0, mi: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=PARIS)


def test_frozen_now_is_a_wednesday() -> None:
    assert NOW.weekday() == 2


# --- our grammar ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("mardi prochain 14h", at(2025, 12, 16, 14)),
        ("Mardi prochain à 14 h", at(2025, 12, 16, 14)),
        ("mardi 14h", at(2025, 12, 16, 14)),
        ("mercredi prochain", at(2025, 12, 17)),  # today's weekday: a week later
        ("mercredi", at(2025, 12, 10)),  # today's weekday, without « prochain »: today
        ("mercredi 16h", at(2025, 12, 10, 16)),  # today, still to come
        ("mercredi 14h", at(2025, 12, 17, 14)),  # today's weekday, time past: next week
        ("mercredi 15h", at(2025, 12, 17, 15)),  # exactly now counts as past, like « 15h »
        ("lundi", at(2025, 12, 15)),
        ("16/12 à 9h30", at(2025, 12, 16, 9, 30)),
        ("16/12 9:30", at(2025, 12, 16, 9, 30)),
        ("16.12.2026", at(2026, 12, 16)),
        ("16/12/26", at(2026, 12, 16)),
        ("demain 10h", at(2025, 12, 11, 10)),
        ("Demain à 10h", at(2025, 12, 11, 10)),
        ("après-demain 8h", at(2025, 12, 12, 8)),
        ("aujourd'hui 18h", at(2025, 12, 10, 18)),
        ("aujourd’hui 18h", at(2025, 12, 10, 18)),
        ("hier", at(2025, 12, 9)),
        ("1er décembre", at(2026, 12, 1)),  # past this year: next year
        ("1er decembre 2025", at(2025, 12, 1)),
        ("le 3 mars", at(2026, 3, 3)),
        ("le 3 mars à 18h", at(2026, 3, 3, 18)),
        ("mardi 16 décembre 14h", at(2025, 12, 16, 14)),
        ("15 déc.", at(2025, 12, 15)),
        ("2026-01-15", at(2026, 1, 15)),
        ("2026-01-15 18:45", at(2026, 1, 15, 18, 45)),
        ("14h", at(2025, 12, 11, 14)),  # already past today: tomorrow
        ("à 16h30", at(2025, 12, 10, 16, 30)),  # still ahead today
        ("tomorrow 10:00", at(2025, 12, 11, 10)),
        ("next tuesday", at(2025, 12, 16)),
    ],
)
def test_parse_future(text: str, expected: datetime) -> None:
    assert parse_datetime(text, NOW) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("mardi", at(2025, 12, 9)),
        ("mardi dernier", at(2025, 12, 9)),
        ("mercredi dernier", at(2025, 12, 3)),
        ("mercredi", at(2025, 12, 10)),
        ("mercredi 14h", at(2025, 12, 10, 14)),
        ("mercredi 16h", at(2025, 12, 3, 16)),  # not yet today: last week
        ("16/12", at(2024, 12, 16)),
        ("1er décembre", at(2025, 12, 1)),
        ("le 3 mars", at(2025, 3, 3)),
        ("14h", at(2025, 12, 10, 14)),
        ("18h", at(2025, 12, 10, 18)),  # prefer past: today at 18 h, not tomorrow
    ],
)
def test_parse_past(text: str, expected: datetime) -> None:
    assert parse_datetime(text, NOW, prefer="past") == expected


def test_default_time() -> None:
    assert parse_datetime("demain", NOW, default_time=time(9, 0)) == at(2025, 12, 11, 9)
    assert parse_datetime("demain 15h", NOW, default_time=time(9, 0)) == at(2025, 12, 11, 15)


def test_results_are_aware_in_the_zone_of_now() -> None:
    result = parse_datetime("16/12 à 9h30", NOW)
    assert result is not None
    assert result.tzinfo == PARIS
    assert result.astimezone(UTC) == datetime(2025, 12, 16, 8, 30, tzinfo=UTC)


def test_now_in_utc_is_read_in_its_own_zone() -> None:
    now_utc = NOW.astimezone(ZoneInfo("UTC"))
    result = parse_datetime("demain 10h", now_utc)
    assert result == datetime(2025, 12, 11, 10, 0, tzinfo=ZoneInfo("UTC"))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("15 déc.", at(2025, 12, 15)),
        ("5 janv.", at(2026, 1, 5)),
        ("1er fév. à 9h", at(2026, 2, 1, 9)),
        ("mardi 16 déc.", at(2025, 12, 16)),
        ("30 sept. 2026", at(2026, 9, 30)),
    ],
)
def test_abbreviated_months_need_no_fallback(
    text: str, expected: datetime, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_fallback(*args: object) -> None:
        raise AssertionError(f"dateparser used for {text!r}")

    monkeypatch.setattr("bot.dates._fallback", no_fallback)
    assert parse_datetime(text, NOW) == expected


@pytest.mark.parametrize(
    ("text", "past", "future"),
    [
        ("septembre", date(2025, 9, 1), date(2026, 9, 1)),
        ("décembre", date(2025, 12, 1), date(2025, 12, 1)),  # the current month
        ("mars 2024", date(2024, 3, 1), date(2024, 3, 1)),
        ("2024", date(2024, 1, 1), date(2024, 1, 1)),
        ("12", date(2025, 11, 12), date(2025, 12, 12)),  # the nearest 12th each way
        ("10", date(2025, 12, 10), date(2025, 12, 10)),  # today
        ("31", date(2025, 10, 31), date(2025, 12, 31)),  # November has none
    ],
)
def test_month_year_or_day_alone(
    text: str, past: date, future: date, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_fallback(*args: object) -> None:
        raise AssertionError(f"dateparser used for {text!r}")

    monkeypatch.setattr("bot.dates._fallback", no_fallback)
    assert parse_date(text, NOW, prefer="past") == past
    assert parse_date(text, NOW, prefer="future") == future


# --- dateparser fallback ----------------------------------------------------------


def test_relative_past() -> None:
    assert parse_datetime("il y a 2 semaines", NOW) == NOW - timedelta(weeks=2)
    assert parse_date("il y a 3 jours", NOW) == date(2025, 12, 7)


def test_relative_future() -> None:
    assert parse_date("dans 3 jours", NOW) == date(2025, 12, 13)


# --- invalid ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "32/13",
        "13/32",
        "12/25",  # day/month: there is no 25th month
        "31/04",
        "0/12",
        "29/02/2025",
        "30 février",
        "le 31 juin",
        "2025-13-01",
        "2026-02-30",
        "25h",
        "10:70",
        "n'importe quoi",
        "blabla 14h",
        "32",  # not a day, nor a year (dateparser read 1932)
        "0",
        "1850",
        "mardi dernier eau",  # a date followed by other words is not a date
        "",
        "   ",
    ],
)
def test_invalid_gives_none(text: str) -> None:
    assert parse_datetime(text, NOW) is None
    assert parse_datetime(text, NOW, prefer="past") is None


def test_leap_day_finds_the_nearest_leap_year() -> None:
    now = at(2025, 3, 1, 12)
    assert parse_date("29/02", now, prefer="future") == date(2028, 2, 29)
    assert parse_date("29 février", now, prefer="past") == date(2024, 2, 29)
    assert parse_date("29/02/2024", now) == date(2024, 2, 29)


# --- parse_date -------------------------------------------------------------------


def test_parse_date_prefers_the_past_by_default() -> None:
    assert parse_date("16/12", NOW) == date(2024, 12, 16)
    assert parse_date("16/12", NOW, prefer="future") == date(2025, 12, 16)
    assert parse_date("n'importe quoi", NOW) is None


# --- daylight saving time ---------------------------------------------------------


def test_summer_time_starts_on_the_last_sunday_of_march() -> None:
    now = at(2025, 3, 1, 12)
    before = parse_datetime("29/03 à 10h", now)
    after = parse_datetime("30/03 à 10h", now)
    assert before is not None and after is not None
    assert before.utcoffset() == timedelta(hours=1)
    assert after.utcoffset() == timedelta(hours=2)
    assert after.astimezone(UTC) == datetime(2025, 3, 30, 8, 0, tzinfo=UTC)
    early = parse_datetime("30/03 à 1h30", now)
    assert early is not None and early.utcoffset() == timedelta(hours=1)


def test_a_time_skipped_by_the_clock_change_moves_past_the_gap() -> None:
    result = parse_datetime("30/03 à 2h30", at(2025, 3, 1, 12))
    assert result is not None
    assert (result.hour, result.minute) == (3, 30)
    assert result.utcoffset() == timedelta(hours=2)
    assert result.astimezone(UTC) == datetime(2025, 3, 30, 1, 30, tzinfo=UTC)


def test_winter_time_starts_on_the_last_sunday_of_october() -> None:
    now = at(2025, 10, 1, 12)
    before = parse_datetime("25/10 à 10h", now)
    after = parse_datetime("26/10 à 10h", now)
    assert before is not None and after is not None
    assert before.utcoffset() == timedelta(hours=2)
    assert after.utcoffset() == timedelta(hours=1)
    assert after.astimezone(UTC) == datetime(2025, 10, 26, 9, 0, tzinfo=UTC)
    # 2:30 happens twice that night: the first one (summer time) is taken.
    twice = parse_datetime("26/10 à 2h30", now)
    assert twice is not None and twice.utcoffset() == timedelta(hours=2)


def test_relative_day_across_the_change_keeps_the_wall_time() -> None:
    saturday = at(2025, 3, 29, 20)
    result = parse_datetime("demain 10h", saturday)
    assert result == at(2025, 3, 30, 10)
    assert result is not None and result.utcoffset() == timedelta(hours=2)


# --- weeks ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "week"),
    [
        (date(2026, 11, 23), "2026-W48"),
        (date(2026, 11, 29), "2026-W48"),  # Sunday: same week
        (date(2026, 11, 30), "2026-W49"),
        (date(2026, 1, 1), "2026-W01"),
        (date(2024, 12, 30), "2025-W01"),  # ISO year differs from the calendar year
        (date(2027, 1, 3), "2026-W53"),
        (date(2025, 3, 3), "2025-W10"),
    ],
)
def test_iso_week(day: date, week: str) -> None:
    assert iso_week(day) == week
