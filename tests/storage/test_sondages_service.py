"""The surveys' rules on a real database (SQLite and PostgreSQL), without Matrix: a poll
queued and answered, votes changed, late and ineligible ones ignored, the close (once),
anonymous surveys below and above k, the reminder, the recurring pulse's exactly-once,
personal data and the indicators. End-to-end tests prove the same through Synapse."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from bot.context import Context
from bot.errors import UserError
from bot.indicators import Period
from bot.roles import Role
from commands.sondages.commands import SurveyData
from commands.sondages.indicators import survey_indicators
from commands.sondages.jobs import post_due_pulse
from commands.sondages.parsing import parse_survey
from commands.sondages.polls import PollResponse
from commands.sondages.service import (
    NewSurvey,
    cast_vote,
    close,
    create,
    current,
    from_draft,
    on_poll_response,
    pulse_survey,
    remind,
)
from schedules.recurrence import parse_recurrence
from storage.db import Database
from storage.models.sondages import PulseSchedule, Survey
from storage.repositories.sondages import SurveyRepository
from storage.unit import Repos
from tests.support.fakes import FakeRooms, make_context, make_services, queued, test_config

ROOM = "!room:example.org"
GOV = "!gov:example.org"
ANIM = "@anim:example.org"
MEMBERS = [f"@m{i}:example.org" for i in range(1, 7)]
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now


def services(clock: Clock, **sondages: Any):  # type: ignore[no-untyped-def]
    rooms = FakeRooms(
        members={ROOM: [ANIM, *MEMBERS, "@oasis:example.org"], GOV: [ANIM, MEMBERS[0]]},
        room_names={ROOM: "OASIS — réseau"},
    )
    cfg = test_config(sondages={"governance_rooms": [GOV], "threshold": 3, **sondages})
    return make_services(cfg, rooms=rooms, clock=clock)


async def ctx_for(repos: Repos, svc: Any, sender: str = ANIM, **kw: Any) -> Context:
    role = Role.ANIMATOR if sender == ANIM else Role.MEMBER
    return await make_context(
        repos, sender=sender, room_id=kw.pop("room_id", ROOM), role=role, services=svc, **kw
    )


async def sent(repos: Repos, tag: str, event_id: str, room: str) -> None:
    """What the sender does once a tagged event is delivered."""
    for row in await queued(repos):
        if row["tag"] == tag and (row["room_id"] == room or row["dm_user"]):
            pass
    from storage.models.runtime import SentEvent

    repos.session.add(SentEvent(event_id=event_id, room_id=room, tag=tag))
    await repos.session.flush()


def response(sender: str, ids: list[str] | None, ts: datetime, poll: str = "$poll") -> PollResponse:
    return PollResponse(poll, ids, int(ts.timestamp() * 1000), sender)


async def test_a_poll_its_votes_and_its_close(db: Database) -> None:
    clock = Clock()
    svc = services(clock)
    async with db.unit() as repos:
        ctx = await ctx_for(repos, svc)
        draft = parse_survey('"On se retrouve où ?" Albi Sète Rodez --fin "dans 2 jours"')
        survey = await create(ctx, from_draft(ctx, draft), author=ANIM)
        assert survey is not None and survey.closes_at == NOW + timedelta(days=2)
        [poll] = await queued(repos)
        assert poll["type"] == "org.matrix.msc3381.poll.start" and poll["tag"] == f"sondage:{survey.id}"
        body = poll["org.matrix.msc1767.text"].replace("\u00a0", " ")
        assert body.startswith(
            f"Sondage n° {survey.id} : « On se retrouve où ? »\n1. Albi\n2. Sète\n3. Rodez"
        )
        await sent(repos, f"sondage:{survey.id}", "$poll", ROOM)
        await repos.commit()
    t = NOW + timedelta(hours=1)
    async with db.unit() as repos:
        ctx = await ctx_for(repos, svc, sender=MEMBERS[0])
        assert await on_poll_response(ctx, response(MEMBERS[0], ["a1"], t), "$r1")
        assert await on_poll_response(ctx, response(MEMBERS[1], ["a1"], t), "$r2")
        assert await on_poll_response(ctx, response(MEMBERS[2], ["a2"], t), "$r3")
        assert await on_poll_response(ctx, response(MEMBERS[2], ["a3"], t + timedelta(minutes=1)), "$r4")
        assert not await on_poll_response(ctx, response(MEMBERS[2], ["a1"], t), "$r5")  # older
        assert await on_poll_response(ctx, response(MEMBERS[3], ["a9"], t), "$r6")  # spoiled
        assert not await on_poll_response(ctx, response("@stranger:x", ["a1"], t), "$r7")
        # After the deadline: as if never sent.
        assert not await on_poll_response(ctx, response(MEMBERS[4], ["a2"], NOW + timedelta(days=3)), "$r8")
        # Not one of our polls.
        assert not await on_poll_response(ctx, response(MEMBERS[4], ["a2"], t, poll="$other"), "$r9")
        outcome = await current(ctx, survey)
        assert outcome.tally is not None and outcome.tally.counts == (2, 0, 1)
        assert outcome.eligible == 7 and outcome.respondents == 3
        # !vote: timed by the inbox's record of the command.
        from storage.models.runtime import InboxEvent

        repos.session.add(
            InboxEvent(
                event_id="$vote",
                room_id=ROOM,
                sender=MEMBERS[5],
                event_type="m.room.message",
                payload={},
                origin_ts=int(t.timestamp() * 1000),
            )
        )
        vctx = await ctx_for(repos, svc, sender=MEMBERS[5], event_id="$vote")
        await cast_vote(vctx, survey, [1])
        await repos.commit()
    clock.now = NOW + timedelta(days=1)
    async with db.unit() as repos:
        ctx = await ctx_for(repos, svc)
        before = len(await queued(repos))
        assert await close(ctx, survey, by=ANIM)
        assert not await close(ctx, survey, by=ANIM)  # once
        await repos.commit()
        new = (await queued(repos))[before:]
    end, results = new
    assert end["type"] == "org.matrix.msc3381.poll.end" and end["m.relates_to"]["event_id"] == "$poll"
    assert "Albi (50 %)" in end["org.matrix.msc1767.text"].replace("\u00a0", " ")
    text = results["body"].replace("\u00a0", " ").replace("\u202f", " ")
    assert "█████░░░░░ 50 % · 2 — Albi" in text and "4 réponses sur 7 membres éligibles (57 %)" in text
    assert results["m.relates_to"]["m.in_reply_to"]["event_id"] == "$poll"
    async with db.unit() as repos:
        again = await repos.of(SurveyRepository).get(survey.id)
        assert again is not None and again.results == {"respondents": 4, "eligible": 7, "counts": [2, 1, 1]}
        ctx = await ctx_for(repos, svc, sender=MEMBERS[4])
        assert not await on_poll_response(ctx, response(MEMBERS[4], ["a2"], t), "$late")


async def test_governance_only_counts_its_members_and_tells_the_others_once(db: Database) -> None:
    svc = services(Clock())
    async with db.unit() as repos:
        ctx = await ctx_for(repos, svc)
        survey = await create(ctx, from_draft(ctx, parse_survey('"Q ?" A B --pour gouvernance')), author=ANIM)
        assert survey is not None
        await sent(repos, f"sondage:{survey.id}", "$poll", ROOM)
        t = NOW + timedelta(minutes=1)
        mctx = await ctx_for(repos, svc, sender=MEMBERS[1])
        assert not await on_poll_response(mctx, response(MEMBERS[1], ["a1"], t), "$x1")
        assert not await on_poll_response(mctx, response(MEMBERS[1], ["a2"], t), "$x2")
        assert await on_poll_response(mctx, response(MEMBERS[0], ["a1"], t), "$x3")
        told = [q for q in await queued(repos) if q["dm_user"] == MEMBERS[1]]
        assert len(told) == 1 and "gouvernance" in told[0]["body"]
        outcome = await current(ctx, survey)
        assert outcome.eligible == 2 and outcome.tally is not None and outcome.tally.counts == (1, 0)


async def anonymous_round(db: Database, voters: int) -> tuple[Survey, list[dict[str, Any]], Repos]:
    svc = services(Clock())
    async with db.unit() as repos:
        ctx = await ctx_for(repos, svc)
        survey = await create(
            ctx, from_draft(ctx, parse_survey('"Satisfait ?" Oui Non --anonyme')), author=ANIM
        )
        assert survey is not None
        rows = await queued(repos)
        polls = [r for r in rows if r["type"] == "org.matrix.msc3381.poll.start"]
        assert rows[0]["room_id"] == ROOM and "anonyme" in rows[0]["body"]
        assert sorted(p["dm_user"] for p in polls) == sorted([ANIM, *MEMBERS])
        assert all(p["room_id"] is None and p["tag"] == f"sondage:{survey.id}" for p in polls)
        for i, person in enumerate(MEMBERS[:voters]):
            await sent(repos, f"sondage:{survey.id}", f"$dm{i}", f"!dm{i}:example.org")
            dctx = await ctx_for(repos, svc, sender=person, room_id=f"!dm{i}:example.org", is_direct=True)
            answer = ["a2"] if i == 0 else ["a1"]
            assert await on_poll_response(
                dctx, response(person, answer, NOW + timedelta(minutes=1), f"$dm{i}"), None
            )
        # In the room, a !vote would tell everyone: refused.
        with __import__("pytest").raises(UserError) as err:
            await cast_vote(await ctx_for(repos, svc, sender=MEMBERS[5]), survey, [0])
        assert err.value.key == "sondages.errors.anonymous_here"
        stored = await repos.of(SurveyRepository).respondents(survey.id)
        assert len(stored) == voters and all(v.startswith("h:") for v in stored)
        assert not any(m in v for v in stored for m in MEMBERS)
        before = len(await queued(repos))
        assert await close(ctx, survey, by=ANIM)
        await repos.commit()
        return survey, (await queued(repos))[before:], repos


async def test_anonymous_below_k_shows_no_totals(db: Database) -> None:
    survey, new, _ = await anonymous_round(db, 2)
    [results] = new  # no end event: there is no poll in the room
    text = results["body"].replace("\u00a0", " ")
    assert "2 réponses sur 7" in text and "Moins de 3 réponses" in text and "Oui" not in text
    async with db.unit() as repos:
        closed = await repos.of(SurveyRepository).get(survey.id)
        assert closed is not None and closed.voter_key is None
        assert closed.results == {"respondents": 2, "eligible": 7}  # no counts kept
        assert await repos.of(SurveyRepository).respondents(survey.id) == set()


async def test_anonymous_above_k_shows_totals_only(db: Database) -> None:
    survey, new, _ = await anonymous_round(db, 4)
    [results] = new
    text = results["body"].replace("\u00a0", " ")
    assert "75 % · 3 — Oui" in text and "25 % · 1 — Non" in text and "4 réponses sur 7" in text
    async with db.unit() as repos:
        closed = await repos.of(SurveyRepository).get(survey.id)
        assert closed is not None and closed.results is not None and closed.results["counts"] == [3, 1]
        assert await repos.of(SurveyRepository).respondents(survey.id) == set()


async def test_one_reminder_to_those_who_did_not_answer(db: Database) -> None:
    clock = Clock()
    svc = services(clock)
    async with db.unit() as repos:
        ctx = await ctx_for(repos, svc)
        survey = await create(
            ctx, NewSurvey("Q ?", ["A", "B"], closes_at=NOW + timedelta(hours=2)), author=ANIM
        )
        assert survey is not None and survey.remind_at == NOW + timedelta(hours=1)  # half-way
        await sent(repos, f"sondage:{survey.id}", "$poll", ROOM)
        for person in MEMBERS[:2]:
            mctx = await ctx_for(repos, svc, sender=person)
            await on_poll_response(mctx, response(person, ["a1"], NOW + timedelta(minutes=5)), None)
        await repos.settings.set_reminders(MEMBERS[2], False)
        before = len(await queued(repos))
        clock.now = NOW + timedelta(hours=1)
        assert await remind(ctx, survey) == 4  # the animator and m4..m6
        assert await remind(ctx, survey) == 0  # once
        reminders = (await queued(repos))[before:]
        assert sorted(r["dm_user"] for r in reminders) == sorted([ANIM, *MEMBERS[3:]])
        first = reminders[0]
        assert first["msgtype"] == "m.text" and first["m.mentions"] == {"user_ids": [first["dm_user"]]}
        assert "!vote" in first["body"] and "!rappels non" in first["body"]


async def test_a_pulse_occurrence_has_exactly_one_poll(db: Database) -> None:
    clock = Clock()
    clock.now = NOW - timedelta(hours=1)  # Monday 9 h in Paris
    svc = services(clock)
    async with db.unit() as repos:
        ctx = await ctx_for(repos, svc)
        rule = parse_recurrence("chaque lundi 10h", clock.now)
        schedule = await repos.of(SurveyRepository).add_schedule(
            PulseSchedule(
                room_id=ROOM,
                cadence="chaque lundi 10h",
                recurrence=rule.to_json(),
                kind="pouls",
                audience="salon",
                anonymous=False,
                duration_s=3 * 86400,
                author_id=ANIM,
                created_at=clock.now,
            )
        )
        assert await post_due_pulse(ctx, schedule) is None  # 10 h has not come yet
        clock.now = NOW + timedelta(days=2)  # Wednesday: Monday's slot was missed
        posted = await post_due_pulse(ctx, schedule)
        assert posted is not None and posted.occurrence == "2026-03-02T10:00:00"
        assert posted.closes_at == datetime(2026, 3, 5, 9, 0, tzinfo=UTC)  # 10 h Paris + 3 days
        assert posted.answers[0].startswith("1 · ") and len(posted.answers) == 5
        assert await post_due_pulse(ctx, schedule) is None  # once, whatever runs again
        clock.now = NOW + timedelta(days=4)  # past its duration: nothing more to post
        assert await post_due_pulse(ctx, schedule) is None
        await repos.commit()
    question, answers = pulse_survey(ctx, "nps")
    assert "Recommanderiez-vous" in question and answers == [str(i) for i in range(11)]


async def test_personal_data(db: Database) -> None:
    svc = services(Clock())
    async with db.unit() as repos:
        ctx = await ctx_for(repos, svc)
        open_survey = await create(ctx, NewSurvey("Q ?", ["A", "B"]), author=ANIM)
        anonymous = await create(ctx, NewSurvey("Anon ?", ["A", "B"], anonymous=True), author=ANIM)
        assert open_survey is not None and anonymous is not None
        await sent(repos, f"sondage:{open_survey.id}", "$poll", ROOM)
        await sent(repos, f"sondage:{anonymous.id}", "$anon", "!dm:example.org")
        member = await ctx_for(repos, svc, sender=MEMBERS[0])
        await on_poll_response(member, response(MEMBERS[0], ["a2"], NOW), None)
        await on_poll_response(member, response(MEMBERS[0], ["a1"], NOW, "$anon"), None)
        data = await SurveyData().export(repos, MEMBERS[0])
        assert data["reponses"] == [
            {
                "sondage": open_survey.id,
                "question": "Q ?",
                "reponse": ["B"],
                "annulee": False,
                "par": "sondage Matrix",
            }
        ]
        assert data["sondages_anonymes_en_cours_auxquels_vous_avez_repondu"] == [anonymous.id]
        assert "personne" in data["sondages_anonymes"]
        assert await SurveyData().erase(repos, MEMBERS[0]) == 2
        assert await repos.of(SurveyRepository).respondents(anonymous.id) == set()
        mine = await SurveyData().export(repos, ANIM)
        assert [s["sondage"] for s in mine["sondages_lances"]] == [open_survey.id, anonymous.id]
        empty = await SurveyData().export(repos, MEMBERS[0])
        assert "sondages_anonymes" not in empty and not any(empty.values())


async def test_indicators_over_a_period(db: Database) -> None:
    clock = Clock()
    svc = services(clock)
    async with db.unit() as repos:
        ctx = await ctx_for(repos, svc)
        pulse = await create(ctx, NewSurvey(*pulse_survey(ctx, "pouls"), kind="pouls"), author=ANIM)
        assert pulse is not None
        await sent(repos, f"sondage:{pulse.id}", "$poll", ROOM)
        for person, answer in zip(MEMBERS[:4], ["a4", "a5", "a4", "a2"], strict=True):
            await on_poll_response(
                await ctx_for(repos, svc, sender=person), response(person, [answer], NOW), None
            )
        clock.now = NOW + timedelta(days=1)
        await close(ctx, pulse, by=ANIM)
        await repos.commit()
        measured = await survey_indicators(ctx, Period(NOW, NOW + timedelta(days=30)))
        values = {m.key: m.value for m in measured.measures}
        assert values["sondages.indicators.closed"] == 1
        assert values["sondages.indicators.participation"] == round(100 * 4 / 7, 1)
        assert values["sondages.indicators.pulse"] == (4 + 5 + 4 + 2) / 4
        assert "sondages.indicators.nps" not in values
        assert measured.active == frozenset(MEMBERS[:4])
        pulse_measure = next(m for m in measured.measures if m.key == "sondages.indicators.pulse")
        assert pulse_measure.detail == (("1", 0), ("2", 1), ("3", 0), ("4", 2), ("5", 1))
        earlier = await survey_indicators(ctx, Period(NOW - timedelta(days=30), NOW))
        assert {m.key: m.value for m in earlier.measures}["sondages.indicators.closed"] == 0
        assert earlier.active == frozenset()


async def test_an_anonymous_survey_reminds_those_whose_hash_is_missing(db: Database) -> None:
    svc = services(Clock())
    async with db.unit() as repos:
        ctx = await ctx_for(repos, svc)
        survey = await create(ctx, NewSurvey("Anon ?", ["A", "B"], anonymous=True), author=ANIM)
        assert survey is not None
        await sent(repos, f"sondage:{survey.id}", "$dm", "!dm:example.org")
        member = await ctx_for(repos, svc, sender=MEMBERS[0], room_id="!dm:example.org", is_direct=True)
        await on_poll_response(member, response(MEMBERS[0], ["a1"], NOW, "$dm"), None)
        before = len(await queued(repos))
        assert await remind(ctx, survey) == 6  # the animator and five members: not m1
        reminders = (await queued(repos))[before:]
        assert MEMBERS[0] not in {r["dm_user"] for r in reminders}
        assert all("anonyme" in r["body"] and "personne ne saura" in r["body"] for r in reminders)


async def test_an_end_an_hour_away_or_more_falls_on_a_whole_minute(db: Database) -> None:
    from commands.sondages.service import deadline

    clock = Clock()
    clock.now = NOW.replace(minute=33, second=26, microsecond=5)
    svc = services(clock)
    async with db.unit() as repos:
        ctx = await ctx_for(repos, svc)
        default = deadline(ctx, None)
        assert (default.second, default.microsecond) == (0, 0) and default.minute == 34
        said = ctx.t("sondages.errors.too_soon", when=default).replace("\u00a0", " ")
        assert " min " not in said and " s " not in said
        assert deadline(ctx, "dans 2 jours").second == 0
        short = deadline(ctx, "dans 10 minutes")  # a few minutes: to the second, as typed
        assert short.second == 26 and abs(short - clock.now - timedelta(minutes=10)) < timedelta(seconds=1)
