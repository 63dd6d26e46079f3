"""The rules of surveys: create one, take a vote, close it, remind, show results.

No Matrix here and no SQLAlchemy: the rules read and write through `ctx.repos` and say
things through `ctx.send` / `ctx.send_event`, which queue outbox rows in the caller's unit
of work — a survey, its poll and its jobs' effects commit together or not at all.

What each outbox row stands for is its tag: `sondage:<n>` on every poll start (the room's,
or each member's in their direct chat for an anonymous survey), which is how a response,
naming the poll it answers, finds its survey. Dedup keys make every post unique: one poll,
one invitation per member, one reminder per member, one end, one results message."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from bot.context import Context, Reply
from bot.dates import parse_when
from bot.errors import UserError
from bot.formatting import Rich, code
from bot.hints import operator_hint
from bot.i18n import Translator
from bot.roles import Role
from commands.sondages.anonymity import may_show, new_key, pseudonym
from commands.sondages.config import SondagesConfig
from commands.sondages.counting import SCALE_SIZES, Tally, mask_of, read_selections, tally
from commands.sondages.parsing import GOVERNANCE, Draft, max_selections
from commands.sondages.polls import PollResponse, answer_ids, end_content, start_content
from commands.sondages.render import SurveyView, fallback_text, results
from storage.models.sondages import Survey
from storage.repositories.sondages import SurveyRepository

log = logging.getLogger(__name__)

TAG = "sondage:"
MIN_DURATION = timedelta(seconds=5)


def settings(ctx: Context) -> SondagesConfig:
    return ctx.config.section(SondagesConfig)


def tag_of(survey_id: int) -> str:
    return f"{TAG}{survey_id}"


def survey_of_tag(tag: str | None) -> int | None:
    if tag and tag.startswith(TAG) and tag[len(TAG) :].isdigit():
        return int(tag[len(TAG) :])
    return None


def view_of(survey: Survey) -> SurveyView:
    return SurveyView(
        number=survey.id,
        question=survey.question,
        answers=list(survey.answers),
        kind=survey.kind,
        max_selections=survey.max_selections,
        anonymous=survey.anonymous,
        hidden=survey.hidden,
        governance=survey.audience == GOVERNANCE,
        closes_at=survey.closes_at,
        closed_at=survey.closed_at,
    )


def network_tr(ctx: Context) -> Translator:
    """Rooms read the network's language."""
    return ctx.services.translator()


def ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


# --- who may answer ----------------------------------------------------------------------
def eligible(ctx: Context, survey: Survey) -> set[str]:
    """Who may answer, as the bot knows the rooms now: the room's members, or the
    governance rooms' members for `--pour gouvernance` (the bot itself left out)."""
    rooms = settings(ctx).governance_rooms if survey.audience == GOVERNANCE else [survey.room_id]
    members: set[str] = set()
    for room in rooms:
        members.update(ctx.services.rooms.joined_members(room))
    members.discard(ctx.services.bot_user_id)
    return members


def voter_of(survey: Survey, user_id: str) -> str:
    if survey.anonymous:
        if survey.voter_key is None:
            raise ValueError(f"anonymous survey {survey.id} has no key (closed)")
        return pseudonym(survey.voter_key, user_id)
    return user_id


async def answered(ctx: Context, survey: Survey, people: set[str]) -> set[str]:
    """Those of `people` whose answer counts in this survey."""
    voters = await ctx.repos.of(SurveyRepository).respondents(survey.id)
    if not survey.anonymous:
        return people & voters
    if survey.voter_key is None:
        return set()
    return {p for p in people if pseudonym(survey.voter_key, p) in voters}


# --- creating ----------------------------------------------------------------------------
def check_creator(ctx: Context) -> None:
    needed = settings(ctx).creator_role
    if ctx.role < needed:
        raise UserError("sondages.errors.not_creator", role=ctx.t(needed.key))


def deadline(ctx: Context, text: str | None, *, start: datetime | None = None) -> datetime:
    """When a survey ends: `--fin` read with the shared grammar (« vendredi 18h », « dans
    10 minutes », « 3j »), else the configured duration."""
    cfg = settings(ctx)
    start = start or ctx.now()
    if not text:
        return _whole_minute(start, start + cfg.duration)
    when = parse_when(text, start, allow_range=False).start
    if when - start < MIN_DURATION:
        raise UserError("sondages.errors.too_soon", when=when)
    if when - start > cfg.max_duration:
        raise UserError("sondages.errors.too_far", days=cfg.max_duration.days)
    return _whole_minute(start, when)


def _whole_minute(start: datetime, when: datetime) -> datetime:
    """An end an hour away or more falls on a whole minute: « mercredi 9 décembre à 17 h 34 »,
    not « à 17 h 33 min 26 s » (seconds are kept for a survey of a few minutes)."""
    if when - start < timedelta(hours=1) or (when.second == 0 and when.microsecond == 0):
        return when
    return when.replace(second=0, microsecond=0) + timedelta(minutes=1)


def reminder_time(ctx: Context, created: datetime, closes: datetime) -> datetime | None:
    """When to remind: `remind_before` the end, or half-way for a shorter survey."""
    cfg = settings(ctx)
    if not cfg.reminder:
        return None
    at = closes - cfg.remind_before
    return at if at > created else created + (closes - created) / 2


@dataclass(frozen=True)
class NewSurvey:
    question: str
    answers: list[str]
    kind: str = "question"
    max_selections: int = 1
    anonymous: bool = False
    hidden: bool = False
    audience: str = "salon"
    closes_at: datetime | None = None
    schedule_id: int | None = None
    occurrence: str | None = None


def from_draft(ctx: Context, draft: Draft, *, kind: str = "question") -> NewSurvey:
    o = draft.options
    return NewSurvey(
        question=draft.question,
        answers=draft.answers,
        kind=kind,
        max_selections=max_selections(o),
        anonymous=o.anonymous,
        hidden=o.hidden,
        audience=o.audience,
        closes_at=deadline(ctx, o.deadline),
    )


def pulse_survey(ctx: Context, kind: str, *, question: str | None = None) -> tuple[str, list[str]]:
    """The pulse's question and answers, in the network's language: 1–5 with their
    labels, or 0–10 for the recommendation (NPS)."""
    cfg = settings(ctx)
    tr = network_tr(ctx)
    if kind == "nps":
        return question or cfg.nps_question or tr.t("sondages.pulse.nps_question"), [
            str(v) for v in range(SCALE_SIZES["nps"])
        ]
    labels = cfg.pulse_labels or tr.list("sondages.pulse.labels")
    answers = [f"{i} · {label}" for i, label in enumerate(labels, start=1)]
    return question or cfg.pulse_question or tr.t("sondages.pulse.question"), answers


async def create(
    ctx: Context, new: NewSurvey, *, room_id: str | None = None, author: str | None = None
) -> Survey | None:
    """Record a survey and queue what starts it: its poll in the room, or (anonymous)
    an announcement in the room and a poll in each eligible member's direct chat. None
    only for a recurring pulse's occurrence that already has its survey."""
    room = room_id or ctx.room_id
    if not room or (room_id is None and ctx.is_direct):
        raise UserError("sondages.errors.in_dm")
    if new.audience == GOVERNANCE and not settings(ctx).governance_rooms:
        raise UserError(
            "sondages.errors.no_governance", hint=operator_hint(ctx, "sondages.errors.no_governance_operator")
        )
    now = ctx.now()
    closes = new.closes_at or deadline(ctx, None, start=now)
    survey = Survey(
        room_id=room,
        question=new.question,
        answers=list(new.answers),
        kind=new.kind,
        max_selections=new.max_selections,
        anonymous=new.anonymous,
        hidden=new.hidden,
        audience=new.audience,
        author_id=author,
        schedule_id=new.schedule_id,
        occurrence=new.occurrence,
        created_at=now,
        closes_at=closes,
        remind_at=reminder_time(ctx, now, closes),
        voter_key=new_key() if new.anonymous else None,
    )
    if new.schedule_id is not None:
        added = await ctx.repos.of(SurveyRepository).add_for_occurrence(survey)
        if added is None:
            return None
        survey = added
    else:
        survey = await ctx.repos.of(SurveyRepository).add(survey)
    await post(ctx, survey)
    return survey


def poll_content(ctx: Context, survey: Survey, tr: Translator) -> dict[str, Any]:
    return start_content(
        survey.question,
        list(survey.answers),
        max_selections=survey.max_selections,
        disclosed=not (survey.hidden or survey.anonymous),
        fallback=fallback_text(tr, view_of(survey), ctx.prefix),
    )


async def post(ctx: Context, survey: Survey) -> None:
    tr = network_tr(ctx)
    if not survey.anonymous:
        await ctx.send_event(
            "org.matrix.msc3381.poll.start",
            poll_content(ctx, survey, tr),
            room_id=survey.room_id,
            dedup_key=f"sondage:{survey.id}:poll",
            tag=tag_of(survey.id),
        )
        return
    people = eligible(ctx, survey)
    await ctx.send(
        Reply(
            "sondages.anonymous_announce",
            title=tr.rich("sondages.title_anonymous", number=survey.id, question=survey.question),
            n=len(people),
            when=survey.closes_at,
            k=settings(ctx).threshold,
        ),
        room_id=survey.room_id,
        dedup_key=f"sondage:{survey.id}:announce",
    )
    await ask_in_direct_chats(ctx, survey, people)


async def ask_in_direct_chats(ctx: Context, survey: Survey, people: set[str]) -> int:
    """An anonymous survey's poll in each person's direct chat (once each)."""
    asked = 0
    for person in sorted(people):
        tr = await ctx.translator_for(person)
        intro = Reply(
            "sondages.anonymous_invite",
            title=tr.rich("sondages.title_anonymous", number=survey.id, question=survey.question),
            room=ctx.services.rooms.room_name(survey.room_id),
            when=survey.closes_at,
        )
        if await ctx.send(intro, to_user=person, dedup_key=f"sondage:{survey.id}:invite:{person}"):
            await ctx.send_event(
                "org.matrix.msc3381.poll.start",
                poll_content(ctx, survey, tr),
                to_user=person,
                dedup_key=f"sondage:{survey.id}:poll:{person}",
                tag=tag_of(survey.id),
            )
            asked += 1
    return asked


# --- voting ------------------------------------------------------------------------------
async def survey_for_poll(ctx: Context, poll_event_id: str) -> Survey | None:
    survey_id = survey_of_tag(await ctx.repos.outbox.tag_for_event(poll_event_id))
    return await ctx.repos.of(SurveyRepository).get(survey_id) if survey_id is not None else None


async def tell_not_eligible(ctx: Context, survey: Survey, user_id: str) -> None:
    """Once per survey and person, in their direct chat."""
    await ctx.send(
        Reply("sondages.not_eligible", number=survey.id, question=survey.question),
        to_user=user_id,
        dedup_key=f"sondage:{survey.id}:ineligible:{user_id}",
    )


async def on_poll_response(ctx: Context, response: PollResponse, event_id: str | None) -> bool:
    """A poll response (either form): recorded when it answers one of our surveys,
    before its end, from someone eligible. True when it was recorded."""
    survey = await survey_for_poll(ctx, response.poll_event_id)
    if survey is None:
        return False
    if survey.anonymous and event_id:
        # The event names its sender beside the answer: keep neither once handled.
        await ctx.repos.inbox.forget_content(event_id)
    if not survey.is_open or response.origin_ts > ms(survey.closes_at):
        return False  # after the end: as if never sent
    if response.sender not in eligible(ctx, survey):
        await tell_not_eligible(ctx, survey, response.sender)
        return False
    vote = read_selections(response.selections, answer_ids(len(survey.answers)), survey.max_selections)
    return await ctx.repos.of(SurveyRepository).record(
        survey.id,
        voter_of(survey, response.sender),
        choices=vote.choices,
        spoiled=vote.spoiled,
        origin_ts=response.origin_ts,
        via="poll",
    )


async def find_for_vote(ctx: Context, number: int | None) -> Survey | None:
    """The survey a `!vote` means: the one named, else the latest open one of this room
    (in a direct chat: the latest open one the person may answer)."""
    if number is not None:
        return await ctx.repos.of(SurveyRepository).get(number)
    if not ctx.is_direct:
        return await ctx.repos.of(SurveyRepository).latest(ctx.room_id, open_only=True)
    for survey in reversed(await ctx.repos.of(SurveyRepository).open_surveys()):
        if ctx.sender in eligible(ctx, survey):
            return survey
    return None


async def cast_vote(ctx: Context, survey: Survey, positions: list[int]) -> None:
    """`!vote`: the member's answer, timed by when the homeserver received the command
    (a vote typed before the deadline while the bot was down still counts)."""
    if survey.anonymous and not ctx.is_direct:
        raise UserError("sondages.errors.anonymous_here", number=survey.id)
    sent_at = await ctx.repos.inbox.origin_ts(ctx.event_id) if ctx.event_id else None
    origin_ts = sent_at if sent_at else ms(ctx.now())
    if not survey.is_open or origin_ts > ms(survey.closes_at):
        raise UserError("sondages.errors.closed", number=survey.id)
    if ctx.sender not in eligible(ctx, survey):
        raise UserError("sondages.errors.not_eligible_vote", number=survey.id)
    if survey.anonymous and ctx.event_id:
        await ctx.repos.inbox.forget_content(ctx.event_id)
    await ctx.repos.of(SurveyRepository).record(
        survey.id,
        voter_of(survey, ctx.sender),
        choices=mask_of(positions),
        spoiled=False,
        origin_ts=origin_ts,
        via="vote",
    )


# --- results -----------------------------------------------------------------------------
@dataclass(frozen=True)
class Outcome:
    """A survey's figures as they may be shown: `tally` is None when only the
    participation may be (anonymous and open, hidden and open, or below k)."""

    tally: Tally | None
    respondents: int
    eligible: int | None


async def current(ctx: Context, survey: Survey) -> Outcome:
    """Where a survey stands: final figures once closed, live ones while open (when
    they may be shown)."""
    if survey.results is not None:
        counts = survey.results.get("counts")
        respondents = int(survey.results.get("respondents", 0))
        shown = Tally(tuple(int(c) for c in counts), respondents) if counts is not None else None
        return Outcome(shown, respondents, survey.results.get("eligible"))
    masks = await ctx.repos.of(SurveyRepository).tally(survey.id)
    live = tally(masks, len(survey.answers))
    people = eligible(ctx, survey)
    if survey.anonymous or survey.hidden:
        return Outcome(None, live.respondents, len(people))
    return Outcome(live, live.respondents, len(people))


def results_rich(ctx: Context, survey: Survey, outcome: Outcome, tr: Translator | None = None) -> Rich:
    return results(
        tr or ctx.tr,
        view_of(survey),
        outcome.tally,
        respondents=outcome.respondents,
        eligible=outcome.eligible,
        threshold=settings(ctx).threshold,
    )


# --- closing -----------------------------------------------------------------------------
async def close(ctx: Context, survey: Survey, *, by: str | None) -> bool:
    """Close the survey (once: a command and the deadline's job may race), keep its final
    figures, send the poll's end and the results. An anonymous survey keeps only its
    totals (above k) and drops its key: from then on nobody can link an answer to anyone.
    False when it was already closed."""
    now = ctx.now()
    at = min(now, survey.closes_at)
    if not await ctx.repos.of(SurveyRepository).claim_close(survey.id, at, by):
        return False
    refreshed = await ctx.repos.of(SurveyRepository).get(survey.id)
    assert refreshed is not None
    survey = refreshed
    k = settings(ctx).threshold
    masks = await ctx.repos.of(SurveyRepository).tally(survey.id)
    final = tally(masks, len(survey.answers))
    people = eligible(ctx, survey)
    if survey.anonymous:
        key = survey.voter_key
        voters = await ctx.repos.of(SurveyRepository).respondents(survey.id)
        known = {pseudonym(key, p) for p in people} if key is not None else set()
        eligible_count = len(people) + len(voters - known)
        keep_counts = may_show(final.respondents, k)
        await ctx.repos.of(SurveyRepository).drop_answers(survey.id)
        survey.voter_key = None
    else:
        voters = await ctx.repos.of(SurveyRepository).respondents(survey.id)
        eligible_count = len(people | voters)
        keep_counts = True
    survey.results = {
        "respondents": final.respondents,
        "eligible": eligible_count,
        **({"counts": list(final.counts)} if keep_counts else {}),
    }
    await announce_results(ctx, survey)
    log.info("survey %d closed: %d answers of %d", survey.id, final.respondents, eligible_count)
    return True


async def announce_results(ctx: Context, survey: Survey) -> None:
    """The end of the room's poll (when it has been sent) and the results message."""
    tr = network_tr(ctx)
    outcome = await current(ctx, survey)
    poll = await room_poll_event(ctx, survey)
    if poll is not None:
        await ctx.send_event(
            "org.matrix.msc3381.poll.end",
            end_content(poll, end_text(tr, survey, outcome)),
            room_id=survey.room_id,
            dedup_key=f"sondage:{survey.id}:end",
        )
    await ctx.send(
        Reply(rich=results_rich(ctx, survey, outcome, tr)),
        room_id=survey.room_id,
        reply_to=poll,
        dedup_key=f"sondage:{survey.id}:results",
    )


async def room_poll_event(ctx: Context, survey: Survey) -> str | None:
    """The event id of the survey's poll in its room, once sent."""
    for sent in await ctx.repos.outbox.events_for_tag(tag_of(survey.id)):
        if sent.room_id == survey.room_id:
            return sent.event_id
    return None


async def send_missing_end(ctx: Context, survey: Survey) -> bool:
    """For a survey closed before its poll was sent: the end, now that it is. True when
    it is still waiting for the poll."""
    if survey.anonymous or survey.is_open:
        return False
    poll = await room_poll_event(ctx, survey)
    if poll is None:
        return True
    outcome = await current(ctx, survey)
    await ctx.send_event(
        "org.matrix.msc3381.poll.end",
        end_content(poll, end_text(network_tr(ctx), survey, outcome)),
        room_id=survey.room_id,
        dedup_key=f"sondage:{survey.id}:end",
    )
    return False


def end_text(tr: Translator, survey: Survey, outcome: Outcome) -> str:
    """The poll end's text fallback: the leading answer, or why none is shown."""
    if outcome.tally is None or not outcome.tally.respondents:
        return tr.t("sondages.end_fallback_none", number=survey.id, n=outcome.respondents)
    leaders = outcome.tally.leaders
    names = " / ".join(survey.answers[i] for i in leaders)
    share = round(100 * outcome.tally.share(leaders[0]))
    return tr.t("sondages.end_fallback", number=survey.id, answer=names, percent=share)


# --- reminding ---------------------------------------------------------------------------
async def remind(ctx: Context, survey: Survey) -> int:
    """One reminder, in their direct chat, to each eligible member who has not answered
    and has not turned reminders off; once per survey (claimed) and per person (dedup
    key). Returns how many were queued."""
    if not await ctx.repos.of(SurveyRepository).claim_reminder(survey.id, ctx.now()):
        return 0
    people = eligible(ctx, survey)
    people -= await answered(ctx, survey, people)
    people -= await ctx.repos.settings.without_reminders(people)
    room = ctx.services.rooms.room_name(survey.room_id)
    sent = 0
    for person in sorted(people):
        reply = Reply(
            "sondages.reminder_anonymous" if survey.anonymous else "sondages.reminder",
            title=(await ctx.translator_for(person)).rich(
                "sondages.title_anonymous" if survey.anonymous else "sondages.title",
                number=survey.id,
                question=survey.question,
            ),
            room=room,
            when=survey.closes_at,
            vote=code(f"{ctx.prefix}vote {survey.id}"),
            stop=code(f"{ctx.prefix}rappels non"),
            mentions=[person],
        )
        if await ctx.send(reply, to_user=person, dedup_key=f"sondage:{survey.id}:reminder:{person}"):
            sent += 1
    return sent


# --- who may do what ---------------------------------------------------------------------
def may_close(ctx: Context, survey: Survey) -> bool:
    return ctx.role >= Role.ANIMATOR or (survey.author_id is not None and survey.author_id == ctx.sender)
