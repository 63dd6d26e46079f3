"""When a scheduled announcement is due, with a frozen clock: on time, late within the
grace period, skipped beyond it, one post for several missed occurrences, across the
summer-time change and the turn of the year."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from commands.annonces.service import due_step, next_time
from schedules.recurrence import parse_recurrence

PARIS = ZoneInfo("Europe/Paris")
GRACE = timedelta(hours=1)


def paris(*args: int) -> datetime:
    return datetime(*args, tzinfo=PARIS)  # type: ignore[misc]


def test_one_off_on_time_late_and_too_late() -> None:
    at, created = paris(2026, 12, 16, 9), paris(2026, 12, 2, 11)
    assert (
        due_step(paris(2026, 12, 16, 8, 59), at=at, rule=None, last=None, created=created, grace=GRACE)
        is None
    )
    step = due_step(paris(2026, 12, 16, 9, 30), at=at, rule=None, last=None, created=created, grace=GRACE)
    assert step is not None and step.post and step.final and step.occurrence == at
    late = due_step(paris(2026, 12, 16, 11), at=at, rule=None, last=None, created=created, grace=GRACE)
    assert late is not None and not late.post and late.final  # skipped, never posted
    assert (
        due_step(paris(2026, 12, 16, 9, 30), at=at, rule=None, last=at, created=created, grace=GRACE) is None
    )
    assert next_time(paris(2026, 12, 2, 12), at=at, rule=None, last=None, created=created) == at
    assert next_time(paris(2026, 12, 16, 10), at=at, rule=None, last=at, created=created) is None


def test_weekly_once_per_occurrence_and_one_post_after_a_downtime() -> None:
    created = paris(2026, 12, 2, 11)  # a Wednesday
    rule = parse_recurrence("chaque lundi 9h", created)
    monday = paris(2026, 12, 7, 9)
    assert next_time(created, at=None, rule=rule, last=None, created=created) == monday
    step = due_step(paris(2026, 12, 7, 9, 0, 1), at=None, rule=rule, last=None, created=created, grace=GRACE)
    assert step is not None and step.post and not step.final and step.occurrence == monday
    # Handled: not again, and the next one is a week later.
    assert (
        due_step(paris(2026, 12, 7, 9, 30), at=None, rule=rule, last=monday, created=created, grace=GRACE)
        is None
    )
    assert next_time(paris(2026, 12, 7, 9, 30), at=None, rule=rule, last=monday, created=created) == paris(
        2026, 12, 14, 9
    )
    # Down for three weeks, back on a Monday at 9:20: one post, the latest occurrence.
    back = paris(2026, 12, 28, 9, 20)
    step = due_step(back, at=None, rule=rule, last=monday, created=created, grace=GRACE)
    assert step is not None and step.post and step.occurrence == paris(2026, 12, 28, 9)
    # Back on a Tuesday: the Monday is beyond grace, skipped.
    step = due_step(paris(2026, 12, 29, 10), at=None, rule=rule, last=monday, created=created, grace=GRACE)
    assert step is not None and not step.post
    # Over the turn of the year.
    assert next_time(
        paris(2026, 12, 29, 10), at=None, rule=rule, last=step.occurrence, created=created
    ) == paris(2027, 1, 4, 9)


def test_summer_time_keeps_the_wall_clock() -> None:
    created = paris(2027, 3, 20, 12)
    rule = parse_recurrence("chaque lundi 9h", created)
    before = next_time(created, at=None, rule=rule, last=None, created=created)
    after = next_time(paris(2027, 3, 22, 10), at=None, rule=rule, last=before, created=created)
    assert before == paris(2027, 3, 22, 9) and before is not None and before.utcoffset() == timedelta(hours=1)
    assert after == paris(2027, 3, 29, 9) and after is not None and after.astimezone(UTC).hour == 7


def test_seconds_and_cron() -> None:
    created = paris(2026, 12, 2, 11, 0, 3)
    rule = parse_recurrence("toutes les 10 secondes", created)
    step = due_step(
        paris(2026, 12, 2, 11, 0, 21), at=None, rule=rule, last=None, created=created, grace=GRACE
    )
    assert step is not None and step.occurrence == paris(2026, 12, 2, 11, 0, 20)
    cron = parse_recurrence("cron 30 8 * * 1-5", created)
    assert next_time(created, at=None, rule=cron, last=None, created=created) == paris(2026, 12, 3, 8, 30)
