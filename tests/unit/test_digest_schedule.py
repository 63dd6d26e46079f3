"""When the digest is due: pure functions of « now », Europe/Paris, across DST."""

from __future__ import annotations

from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

import pytest

from commands.digest import parse_week
from commands.digest_slots import due_slot, grace_end, last_slot, next_slot, week_of

PARIS = ZoneInfo("Europe/Paris")
MONDAY, NINE = 0, time(9, 0)


def paris(*args: int) -> datetime:
    return datetime(*args, tzinfo=PARIS)  # type: ignore[misc]


def test_last_and_next_slot() -> None:
    wednesday = paris(2026, 11, 25, 15, 0)
    assert last_slot(wednesday, MONDAY, NINE, PARIS) == paris(2026, 11, 23, 9, 0)
    assert next_slot(wednesday, MONDAY, NINE, PARIS) == paris(2026, 11, 30, 9, 0)
    # Monday before nine: the slot is last week's.
    early = paris(2026, 11, 30, 8, 59)
    assert last_slot(early, MONDAY, NINE, PARIS) == paris(2026, 11, 23, 9, 0)
    assert next_slot(early, MONDAY, NINE, PARIS) == paris(2026, 11, 30, 9, 0)
    # At nine sharp the slot is now.
    assert last_slot(paris(2026, 11, 30, 9, 0), MONDAY, NINE, PARIS) == paris(2026, 11, 30, 9, 0)


def test_due_within_the_same_day_by_default() -> None:
    assert due_slot(paris(2026, 11, 30, 9, 0), MONDAY, NINE, PARIS, None) == paris(2026, 11, 30, 9, 0)
    assert due_slot(paris(2026, 11, 30, 23, 59), MONDAY, NINE, PARIS, None) == paris(2026, 11, 30, 9, 0)
    assert due_slot(paris(2026, 12, 1, 0, 0), MONDAY, NINE, PARIS, None) is None
    assert due_slot(paris(2026, 11, 30, 8, 0), MONDAY, NINE, PARIS, None) is None  # last week's, past grace


def test_grace_in_hours() -> None:
    assert due_slot(paris(2026, 11, 30, 11, 59), MONDAY, NINE, PARIS, 3) is not None
    assert due_slot(paris(2026, 11, 30, 12, 0), MONDAY, NINE, PARIS, 3) is None
    # A grace past midnight keeps the slot (and its week) the same.
    slot = due_slot(paris(2026, 12, 1, 2, 0), MONDAY, NINE, PARIS, 24)
    assert slot == paris(2026, 11, 30, 9, 0) and week_of(slot, PARIS) == "2026-W49"


def test_spring_forward_keeps_wall_clock_time() -> None:
    # 29 March 2026: Paris goes from +01:00 to +02:00. A Sunday 09:00 digest is 07:00 UTC.
    slot = last_slot(paris(2026, 3, 29, 12, 0), 6, NINE, PARIS)
    assert slot.astimezone(UTC) == datetime(2026, 3, 29, 7, 0, tzinfo=UTC)
    before = last_slot(paris(2026, 3, 28, 12, 0), 6, NINE, PARIS)
    assert before.astimezone(UTC) == datetime(2026, 3, 22, 8, 0, tzinfo=UTC)
    # A time that does not exist that night (02:30) moves past the gap.
    skipped = last_slot(paris(2026, 3, 29, 12, 0), 6, time(2, 30), PARIS)
    assert skipped.astimezone(PARIS).hour == 3
    # The default grace ends at local midnight, 22:00 UTC in summer time.
    assert grace_end(slot, None, PARIS).astimezone(UTC) == datetime(2026, 3, 29, 22, 0, tzinfo=UTC)


def test_fall_back_keeps_wall_clock_time() -> None:
    # 25 October 2026: back from +02:00 to +01:00; the day lasts 25 hours.
    slot = last_slot(paris(2026, 10, 25, 20, 0), 6, NINE, PARIS)
    assert slot.astimezone(UTC) == datetime(2026, 10, 25, 8, 0, tzinfo=UTC)
    assert grace_end(slot, None, PARIS).astimezone(UTC) == datetime(2026, 10, 25, 23, 0, tzinfo=UTC)
    assert next_slot(slot, 6, NINE, PARIS).astimezone(UTC) == datetime(2026, 11, 1, 8, 0, tzinfo=UTC)
    # Monday 26 October 09:00 is 08:00 UTC (the week after the change).
    monday = due_slot(datetime(2026, 10, 26, 8, 30, tzinfo=UTC), MONDAY, NINE, PARIS, None)
    assert monday is not None and monday.astimezone(UTC) == datetime(2026, 10, 26, 8, 0, tzinfo=UTC)


def test_a_utc_clock_near_midnight_is_read_in_paris() -> None:
    # Sunday 23:30 UTC is already Monday 00:30 in Paris (winter): last week's slot, not due.
    assert due_slot(datetime(2026, 11, 29, 23, 30, tzinfo=UTC), MONDAY, NINE, PARIS, None) is None
    # The week of a slot is the ISO week in Paris.
    assert week_of(datetime(2026, 12, 27, 23, 30, tzinfo=UTC), PARIS) == "2026-W53"


@pytest.mark.parametrize(
    ("raw", "week"),
    [
        ("49", "2026-W49"),
        ("S48", "2026-W48"),
        ("w01", "2026-W01"),
        ("2025-W52", "2025-W52"),
        ("52", "2025-W52"),
    ],
)
def test_parse_week(raw: str, week: str) -> None:
    assert parse_week(raw, paris(2026, 12, 2, 10, 0)) == week
