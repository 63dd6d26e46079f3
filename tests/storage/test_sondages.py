"""The surveys' storage on SQLite and PostgreSQL: latest answer wins, tallies, claims,
occurrences, personal data, and the reminders setting."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.exc import IntegrityError

from storage.db import Database
from storage.models.sondages import PulseSchedule, Survey
from storage.repositories.sondages import SurveyRepository

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def survey(**overrides: object) -> Survey:
    values: dict[str, object] = {
        "room_id": "!room:example.org",
        "question": "Le réseau vous a-t-il été utile ?",
        "answers": ["Oui", "Non", "Sans avis"],
        "kind": "question",
        "max_selections": 1,
        "anonymous": False,
        "hidden": False,
        "audience": "salon",
        "author_id": "@anim:example.org",
        "created_at": NOW,
        "closes_at": NOW + timedelta(days=7),
    }
    values.update(overrides)
    return Survey(**values)


async def test_numbers_latest_and_listing(db: Database) -> None:
    async with db.unit() as repos:
        first = await repos.of(SurveyRepository).add(survey())
        second = await repos.of(SurveyRepository).add(survey(closed_at=NOW + timedelta(hours=1)))
        other = await repos.of(SurveyRepository).add(survey(room_id="!other:example.org"))
        await repos.commit()
    assert (first.id, second.id, other.id) == (first.id, first.id + 1, first.id + 2)
    async with db.unit() as repos:
        latest = await repos.of(SurveyRepository).latest("!room:example.org")
        latest_open = await repos.of(SurveyRepository).latest("!room:example.org", open_only=True)
        assert latest is not None and latest.id == second.id
        assert latest_open is not None and latest_open.id == first.id
        assert await repos.of(SurveyRepository).latest("!nowhere:example.org") is None
        listed = await repos.of(SurveyRepository).in_rooms(["!room:example.org"], closed_since=NOW)
        assert [s.id for s in listed] == [second.id, first.id]
        assert (
            await repos.of(SurveyRepository).in_rooms(
                ["!room:example.org"], closed_since=NOW + timedelta(days=1)
            )
            != []
        )
        only_open = await repos.of(SurveyRepository).in_rooms(
            ["!room:example.org"], closed_since=NOW + timedelta(days=1)
        )
        assert [s.id for s in only_open] == [first.id]
        assert [s.id for s in await repos.of(SurveyRepository).open_surveys()] == [first.id, other.id]
        assert [
            s.id for s in await repos.of(SurveyRepository).closed_between(NOW, NOW + timedelta(days=1))
        ] == [second.id]
        assert first.answers == ["Oui", "Non", "Sans avis"]


async def test_the_latest_answer_wins_whatever_the_order_handled(db: Database) -> None:
    async with db.unit() as repos:
        s = await repos.of(SurveyRepository).add(survey())
        record = repos.of(SurveyRepository).record
        assert await record(s.id, "@a:x", choices=0b001, spoiled=False, origin_ts=1000, via="poll")
        assert await record(s.id, "@a:x", choices=0b010, spoiled=False, origin_ts=3000, via="poll")
        # Sent earlier, handled later: ignored.
        assert not await record(s.id, "@a:x", choices=0b100, spoiled=False, origin_ts=2000, via="poll")
        assert await record(s.id, "@b:x", choices=0b010, spoiled=False, origin_ts=1500, via="vote")
        assert await record(s.id, "@c:x", choices=0b100, spoiled=False, origin_ts=1500, via="poll")
        # Taken back, then spoiled: neither counts.
        assert await record(s.id, "@c:x", choices=0, spoiled=False, origin_ts=1600, via="poll")
        assert await record(s.id, "@d:x", choices=0, spoiled=True, origin_ts=1600, via="poll")
        await repos.commit()
    async with db.unit() as repos:
        assert await repos.of(SurveyRepository).tally(s.id) == {0b010: 2}
        assert await repos.of(SurveyRepository).respondents(s.id) == {"@a:x", "@b:x"}
        kept = await repos.of(SurveyRepository).response(s.id, "@a:x")
        assert kept is not None and (kept.choices, kept.origin_ts, kept.via) == (0b010, 3000, "poll")
        spoiled = await repos.of(SurveyRepository).response(s.id, "@d:x")
        assert spoiled is not None and spoiled.spoiled
        assert await repos.of(SurveyRepository).drop_answer(s.id, "@b:x") == 1
        assert await repos.of(SurveyRepository).tally(s.id) == {0b010: 1}
        assert await repos.of(SurveyRepository).drop_answers(s.id) == 3
        assert await repos.of(SurveyRepository).tally(s.id) == {}


async def test_close_and_reminder_are_claimed_once(db: Database) -> None:
    async with db.unit() as repos:
        s = await repos.of(SurveyRepository).add(survey())
        await repos.commit()
    async with db.unit() as repos:
        assert await repos.of(SurveyRepository).claim_reminder(s.id, NOW)
        assert not await repos.of(SurveyRepository).claim_reminder(s.id, NOW)
        assert await repos.of(SurveyRepository).claim_close(s.id, NOW, "@anim:example.org")
        await repos.commit()
    async with db.unit() as repos:
        assert not await repos.of(SurveyRepository).claim_close(s.id, NOW + timedelta(hours=1), None)
        again = await repos.of(SurveyRepository).get(s.id)
        assert again is not None and again.closed_at == NOW and again.closed_by == "@anim:example.org"
        assert not again.is_open


async def test_one_survey_per_occurrence_of_a_schedule(db: Database) -> None:
    async with db.unit() as repos:
        schedule = await repos.of(SurveyRepository).add_schedule(
            PulseSchedule(
                room_id="!room:example.org",
                cadence="chaque mois",
                kind="pouls",
                audience="salon",
                anonymous=False,
                duration_s=7 * 86400,
                author_id="@anim:example.org",
                created_at=NOW,
            )
        )
        await repos.of(SurveyRepository).add(survey(schedule_id=schedule.id, occurrence="2026-03"))
        await repos.commit()
    async with db.unit() as repos:
        with pytest.raises(IntegrityError):
            await repos.of(SurveyRepository).add(survey(schedule_id=schedule.id, occurrence="2026-03"))
    async with db.unit() as repos:
        found = await repos.of(SurveyRepository).for_occurrence(schedule.id, "2026-03")
        assert found is not None
        assert await repos.of(SurveyRepository).for_occurrence(schedule.id, "2026-04") is None
        assert [p.id for p in await repos.of(SurveyRepository).active_schedules()] == [schedule.id]
        assert await repos.of(SurveyRepository).active_schedules(["!other:example.org"]) == []
        assert await repos.of(SurveyRepository).stop_schedule(schedule.id, NOW, "@anim:example.org")
        assert not await repos.of(SurveyRepository).stop_schedule(schedule.id, NOW, "@anim:example.org")
        assert await repos.of(SurveyRepository).active_schedules() == []
        await repos.commit()


async def test_personal_data_export_and_erase(db: Database) -> None:
    async with db.unit() as repos:
        mine = await repos.of(SurveyRepository).add(survey(author_id="@alice:x"))
        anonymous = await repos.of(SurveyRepository).add(survey(anonymous=True, voter_key=b"k" * 32))
        await repos.of(SurveyRepository).record(
            mine.id, "@alice:x", choices=1, spoiled=False, origin_ts=1, via="poll"
        )
        await repos.of(SurveyRepository).record(
            mine.id, "@bob:x", choices=2, spoiled=False, origin_ts=1, via="poll"
        )
        await repos.of(SurveyRepository).record(
            anonymous.id, "h:abc", choices=1, spoiled=False, origin_ts=1, via="poll"
        )
        await repos.of(SurveyRepository).claim_close(mine.id, NOW, "@alice:x")
        await repos.commit()
    async with db.unit() as repos:
        answers = await repos.of(SurveyRepository).answers_of("@alice:x")
        assert [(s.id, r.choices) for s, r in answers] == [(mine.id, 1)]
        authored, schedules = await repos.of(SurveyRepository).authored_by("@alice:x")
        assert [s.id for s in authored] == [mine.id] and list(schedules) == []
        # One answer deleted, one survey whose author and closer she was.
        assert await repos.of(SurveyRepository).erase_user("@alice:x") == 2
        await repos.commit()
    async with db.unit() as repos:
        assert await repos.of(SurveyRepository).answers_of("@alice:x") == []
        kept = await repos.of(SurveyRepository).get(mine.id)
        assert kept is not None and kept.author_id is None and kept.closed_by is None
        assert await repos.of(SurveyRepository).tally(mine.id) == {2: 1}
        assert await repos.of(SurveyRepository).tally(anonymous.id) == {1: 1}


async def test_reminders_setting(db: Database) -> None:
    async with db.unit() as repos:
        assert await repos.settings.reminders("@a:x")  # on by default
        await repos.settings.set_language("@b:x", "en")
        await repos.settings.set_reminders("@a:x", False)
        await repos.settings.set_reminders("@c:x", False)
        await repos.settings.set_reminders("@c:x", True)
        await repos.commit()
    async with db.unit() as repos:
        assert not await repos.settings.reminders("@a:x")
        assert await repos.settings.reminders("@b:x") and await repos.settings.reminders("@c:x")
        assert await repos.settings.without_reminders(["@a:x", "@b:x", "@c:x", "@d:x"]) == {"@a:x"}
        assert await repos.settings.without_reminders([]) == set()
        assert await repos.settings.language("@a:x") is None
