"""The surveys' commands and the hook that reads poll responses.

!sondage "Question ?" "A" "B" [--multiple N] [--anonyme] [--cache] [--fin …] [--pour gouvernance]
!sondage clore [n°]      !sondage resultats [n°]      !sondages
!vote [n°] <choix>
!pouls [nps] [options]   !pouls planifier <cadence> [question] [--duree 7j] …
!pouls planning          !pouls arreter <n°>
!rappels [oui|non]"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any, Literal

from bot.arguments import Rest
from bot.context import Context, Reply
from bot.dates import DateError, parse_delay
from bot.dates_format import format_delay
from bot.errors import UserError
from bot.formatting import Rich, bullets, code, lines
from bot.hints import operator_hint
from bot.i18n import default_catalog
from bot.registry import command, on_event
from bot.roles import Role
from commands.sondages.counting import NPS, PULSE, chosen
from commands.sondages.jobs import schedule_pulse, schedule_survey, unschedule_pulse
from commands.sondages.parsing import (
    Options,
    parse_survey,
    read_choice,
    split_options,
    split_vote,
    survey_number,
)
from commands.sondages.polls import RESPONSE_TYPES, parse_response
from commands.sondages.render import listing
from commands.sondages.service import (
    NewSurvey,
    cast_vote,
    check_creator,
    close,
    create,
    current,
    deadline,
    eligible,
    find_for_vote,
    from_draft,
    may_close,
    on_poll_response,
    pulse_survey,
    results_rich,
    settings,
    view_of,
    voter_of,
)
from commands.sondages.service import tell_not_eligible as _tell_not_eligible
from schedules.recurrence import Recurrence, parse_recurrence
from storage.models.sondages import PulseSchedule, Survey
from storage.repositories.sondages import SurveyRepository

if TYPE_CHECKING:
    from storage.unit import Repos

RECENT = timedelta(days=31)  # !sondages lists the surveys closed in the last month
MAX_LISTED = 10


# --- creating --------------------------------------------------------------------------------
@command("sondage", aliases=["poll", "survey"], help="sondages.sondage.help", feature="sondages")
async def start_survey(ctx: Context, texte: Rest = "") -> Reply | None:
    if not texte.strip():
        return Reply("sondages.sondage.how", example=code(ctx.t("sondages.sondage.example")))
    check_creator(ctx)
    draft = parse_survey(texte)
    survey = await create(ctx, from_draft(ctx, draft), author=ctx.sender)
    assert survey is not None
    if ctx.services.scheduler is not None:
        schedule_survey(ctx.services.scheduler, survey)
    return None  # the poll (or the anonymous survey's announcement) is the answer


async def _survey_here(ctx: Context, number: str, *, open_only: bool) -> Survey:
    """The survey a subcommand names, or this room's latest (open) one."""
    if number:
        wanted = survey_number(number)
        if wanted is None:
            raise UserError("sondages.errors.bad_number", value=number)
        survey = await ctx.repos.of(SurveyRepository).get(wanted)
        if survey is None or not _may_see(ctx, survey):
            raise UserError("sondages.errors.unknown", number=wanted)
        return survey
    if ctx.is_direct:
        raise UserError("sondages.errors.number_needed")
    latest = await ctx.repos.of(SurveyRepository).latest(ctx.room_id, open_only=open_only)
    if latest is None:
        raise UserError("sondages.errors.none_open" if open_only else "sondages.errors.none_here")
    return latest


def _may_see(ctx: Context, survey: Survey) -> bool:
    """A survey is seen from its room, or by the people it concerns."""
    if not ctx.is_direct:
        return survey.room_id == ctx.room_id
    return ctx.role >= Role.ANIMATOR or ctx.sender in eligible(ctx, survey) or survey.author_id == ctx.sender


@start_survey.sub("clore", aliases=["close", "fermer", "terminer"], help="sondages.clore.help")
async def close_survey(ctx: Context, numero: str = "") -> Reply | None:
    survey = await _survey_here(ctx, numero, open_only=not numero)
    if not survey.is_open:
        raise UserError("sondages.errors.already_closed", number=survey.id)
    ctx.role = await ctx.services.permissions.role_of(ctx.sender, survey.room_id, False)
    if not may_close(ctx, survey):
        raise UserError("sondages.errors.not_yours", number=survey.id)
    await close(ctx, survey, by=ctx.sender)
    if ctx.services.scheduler is not None:
        schedule_survey(ctx.services.scheduler, survey)  # the end, once its poll is sent
    if ctx.is_direct or survey.room_id != ctx.room_id:
        return Reply(
            "sondages.closed_elsewhere", number=survey.id, room=ctx.services.rooms.room_name(survey.room_id)
        )
    return None  # the results message is the answer


@start_survey.sub("resultats", aliases=["results", "resultat"], help="sondages.resultats.help")
async def show_results(ctx: Context, numero: str = "") -> Reply:
    survey = await _survey_here(ctx, numero, open_only=False)
    outcome = await current(ctx, survey)
    parts: list[Any] = [results_rich(ctx, survey, outcome)]
    if survey.is_open and survey.hidden and not survey.anonymous:
        parts.append(ctx.rich("sondages.hidden_until_end"))
    return Reply(rich=lines(parts))


@command("sondages", aliases=["polls", "surveys"], help="sondages.liste.help", feature="sondages")
async def list_surveys(ctx: Context) -> Reply:
    if ctx.is_direct:
        rooms = [
            r for r in ctx.services.rooms.joined_rooms() if ctx.sender in ctx.services.rooms.joined_members(r)
        ]
    else:
        rooms = [ctx.room_id]
    found = await ctx.repos.of(SurveyRepository).in_rooms(
        rooms, closed_since=ctx.now() - RECENT, limit=MAX_LISTED
    )
    items = []
    for survey in found:
        outcome = await current(ctx, survey)
        items.append((view_of(survey), outcome.respondents, outcome.eligible))
    return Reply(rich=listing(ctx.tr, items, ctx.prefix))


# --- voting ----------------------------------------------------------------------------------
@command("vote", aliases=["voter"], help="sondages.vote.help", feature="sondages")
async def vote(ctx: Context, choix: Rest = "") -> Reply | None:
    number, choice = split_vote(choix)
    survey = await find_for_vote(ctx, number)
    if survey is None and number is not None:
        survey, choice = await find_for_vote(ctx, None), choix.strip()
    if survey is None:
        raise UserError("sondages.errors.nothing_to_vote")
    if ctx.sender not in eligible(ctx, survey):
        await _tell_not_eligible(ctx, survey, ctx.sender)
        return None
    positions = read_choice(choice, list(survey.answers), survey.max_selections)
    await cast_vote(ctx, survey, positions)
    if ctx.event_id:
        await ctx.react(ctx.event_id, "✅")
    return None


@on_event(*RESPONSE_TYPES)
async def poll_response(ctx: Context, event: dict[str, Any]) -> None:
    response = parse_response(event)
    if response is not None:
        await on_poll_response(ctx, response, event.get("event_id"))


# --- pulses ----------------------------------------------------------------------------------
_PULSE_OPTIONS = frozenset({"anonymous", "hidden", "deadline", "audience"})


def _new_pulse(ctx: Context, kind: str, options: Options, question: str | None = None) -> NewSurvey:
    text, answers = pulse_survey(ctx, kind, question=question)
    return NewSurvey(
        question=text,
        answers=answers,
        kind=kind,
        anonymous=options.anonymous,
        hidden=options.hidden,
        audience=options.audience,
        closes_at=deadline(ctx, options.deadline),
    )


@command("pouls", aliases=["pulse"], help="sondages.pouls.help", feature="sondages")
async def pulse(ctx: Context, texte: Rest = "") -> Reply | None:
    check_creator(ctx)
    words, options = split_options(texte, _PULSE_OPTIONS)
    kind = PULSE
    if words and words[0].text.casefold() == "nps":
        kind, words = NPS, words[1:]
    if words:
        raise UserError("sondages.errors.pulse_words", words=" ".join(w.text for w in words))
    survey = await create(ctx, _new_pulse(ctx, kind, options), author=ctx.sender)
    assert survey is not None
    if ctx.services.scheduler is not None:
        schedule_survey(ctx.services.scheduler, survey)
    return None


def _read_cadence(ctx: Context, words: list[str]) -> tuple[Recurrence, str, list[str]]:
    """The longest beginning of `words` that is a cadence, and the words after it."""
    error: DateError | None = None
    for end in range(len(words), 0, -1):
        phrase = " ".join(words[:end])
        try:
            return parse_recurrence(phrase, ctx.now()), phrase, words[end:]
        except DateError as exc:
            error = error or exc
    if error is not None:
        raise error
    raise UserError("sondages.errors.no_cadence")


@pulse.sub("planifier", aliases=["schedule", "programmer"], help="sondages.planifier.help")
async def plan_pulse(ctx: Context, texte: Rest = "") -> Reply:
    check_creator(ctx)
    if ctx.is_direct:
        raise UserError("sondages.errors.in_dm")
    words, options = split_options(texte, frozenset({"anonymous", "hidden", "audience", "duration"}))
    plain = [w.text for w in words if not w.quoted]
    quoted = [w.text for w in words if w.quoted]
    if not plain:
        raise UserError("sondages.errors.no_cadence")
    rule, cadence, rest = _read_cadence(ctx, plain)
    kind = PULSE
    if rest and rest[0].casefold() == "nps":
        kind, rest = NPS, rest[1:]
    question = " ".join([*rest, *quoted]).strip() or None
    cfg = settings(ctx)
    duration = parse_delay(options.duration) if options.duration else cfg.pulse_duration
    if duration < timedelta(seconds=5) or duration > cfg.max_duration:
        raise UserError("sondages.errors.bad_duration", value=options.duration or "")
    if options.audience == "gouvernance" and not cfg.governance_rooms:
        raise UserError(
            "sondages.errors.no_governance", hint=operator_hint(ctx, "sondages.errors.no_governance_operator")
        )
    pulse_survey(ctx, kind, question=question)  # the question must make sense now
    schedule = await ctx.repos.of(SurveyRepository).add_schedule(
        PulseSchedule(
            room_id=ctx.room_id,
            cadence=cadence[:200],
            recurrence=rule.to_json(),
            kind=kind,
            question=question,
            audience=options.audience,
            anonymous=options.anonymous,
            duration_s=int(duration.total_seconds()),
            author_id=ctx.sender,
            created_at=ctx.now(),
        )
    )
    if ctx.services.scheduler is not None:
        schedule_pulse(ctx.services.scheduler, schedule)
    upcoming = rule.next_after(ctx.now())
    return Reply(
        "sondages.planned",
        number=schedule.id,
        rule=rule.describe(ctx.tr),
        next=upcoming,
        duration=format_delay(duration, ctx.tr),
        stop=code(f"{ctx.prefix}pouls arreter {schedule.id}"),
    )


@pulse.sub("planning", aliases=["plannings", "liste", "schedules"], help="sondages.planning.help")
async def list_pulses(ctx: Context) -> Reply:
    rooms = None if ctx.is_direct else [ctx.room_id]
    schedules = await ctx.repos.of(SurveyRepository).active_schedules(rooms)
    if not schedules:
        return Reply("sondages.planning_empty", command=code(f"{ctx.prefix}pouls planifier chaque mois"))
    rows: list[Rich] = []
    for s in schedules:
        rule = Recurrence.from_json(s.recurrence)
        question = s.question or pulse_survey(ctx, s.kind)[0]
        rows.append(
            ctx.rich(
                "sondages.planning_line",
                number=s.id,
                rule=rule.describe(ctx.tr),
                question=question,
                next=rule.next_after(ctx.now()),
                room=ctx.services.rooms.room_name(s.room_id),
            )
        )
    return Reply(rich=lines([ctx.rich("sondages.planning_title"), bullets(rows)]))


@pulse.sub("arreter", aliases=["stop", "arrêter", "supprimer"], help="sondages.arreter.help")
async def stop_pulse(ctx: Context, numero: str) -> Reply:
    wanted = survey_number(numero)
    schedule = await ctx.repos.of(SurveyRepository).schedule(wanted) if wanted is not None else None
    if (
        schedule is None
        or schedule.stopped_at is not None
        or (not ctx.is_direct and schedule.room_id != ctx.room_id)
    ):
        raise UserError("sondages.errors.unknown_schedule", value=numero)
    ctx.role = await ctx.services.permissions.role_of(ctx.sender, schedule.room_id, False)
    if ctx.role < Role.ANIMATOR and schedule.author_id != ctx.sender:
        raise UserError("sondages.errors.not_your_schedule", number=schedule.id)
    await ctx.repos.of(SurveyRepository).stop_schedule(schedule.id, ctx.now(), ctx.sender)
    if ctx.services.scheduler is not None:
        unschedule_pulse(ctx.services.scheduler, schedule.id)
    return Reply("sondages.stopped", number=schedule.id)


# --- reminders -------------------------------------------------------------------------------
@command("rappels", aliases=["reminders", "rappel"], help="sondages.rappels.help", feature="sondages")
async def reminders(
    ctx: Context, choix: Literal["oui", "non", "yes", "no", "on", "off"] | None = None
) -> Reply:
    if choix is None:
        on = await ctx.repos.settings.reminders(ctx.sender)
        return Reply("sondages.rappels.on" if on else "sondages.rappels.off")
    on = choix in ("oui", "yes", "on")
    await ctx.repos.settings.set_reminders(ctx.sender, on)
    return Reply("sondages.rappels.set_on" if on else "sondages.rappels.set_off")


# --- personal data ---------------------------------------------------------------------------
class SurveyData:
    """A member's share of the surveys: their answers to surveys that are not anonymous,
    the surveys and pulses they started, whether they get reminders; their answer to an
    anonymous survey still open (recognised with its key, and erased with them). Closed
    anonymous surveys hold only totals: nothing there can be linked back to anyone."""

    name = "sondages"

    async def export(self, repos: Repos, user_id: str) -> dict[str, Any]:
        answers = await repos.of(SurveyRepository).answers_of(user_id)
        surveys, schedules = await repos.of(SurveyRepository).authored_by(user_id)
        closed, stopped = await repos.of(SurveyRepository).closed_or_stopped_by(user_id)
        anonymous_open = [s.id for s in await _open_anonymous_answered(repos, user_id)]
        data: dict[str, Any] = {
            "reponses": [
                {
                    "sondage": s.id,
                    "question": s.question,
                    "reponse": [s.answers[i] for i in chosen(r.choices) if i < len(s.answers)],
                    "annulee": r.choices == 0,
                    "par": "!vote" if r.via == "vote" else "sondage Matrix",
                }
                for s, r in answers
            ],
            "sondages_anonymes_en_cours_auxquels_vous_avez_repondu": anonymous_open,
            "sondages_lances": [
                {"sondage": s.id, "question": s.question, "le": s.created_at} for s in surveys
            ],
            "pouls_planifies": [
                {"pouls": p.id, "cadence": p.cadence, "arrete": p.stopped_at is not None} for p in schedules
            ],
            "sondages_clos": [{"sondage": s.id, "question": s.question, "le": s.closed_at} for s in closed],
            "pouls_arretes": [{"pouls": p.id, "cadence": p.cadence, "le": p.stopped_at} for p in stopped],
            "rappels_desactives": not await repos.settings.reminders(user_id),
        }
        if any(v for v in data.values()):
            # The export is in the network's language, like the rest of its keys.
            data["sondages_anonymes"] = default_catalog().translator(None).t("sondages.anonymous_data")
        return data

    async def erase(self, repos: Repos, user_id: str) -> int:
        erased = 0
        for survey in await _open_anonymous_answered(repos, user_id):
            erased += await repos.of(SurveyRepository).drop_answer(survey.id, voter_of(survey, user_id))
        erased += await repos.of(SurveyRepository).erase_user(user_id)
        return erased


SURVEY_DATA = SurveyData()


async def _open_anonymous_answered(repos: Repos, user_id: str) -> list[Survey]:
    found = []
    for survey in await repos.of(SurveyRepository).open_surveys():
        if (
            survey.anonymous
            and survey.voter_key is not None
            and await repos.of(SurveyRepository).response(survey.id, voter_of(survey, user_id)) is not None
        ):
            found.append(survey)
    return found
