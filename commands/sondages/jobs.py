"""The surveys' jobs: closing at the deadline, the reminder, the recurring pulses.

The database is the source of truth: at start, every open survey gets its close and its
reminder back, every active pulse its next occurrence. Each job decides from « now » and
the database, so running one late, twice, or after a restart does the right thing once:
- a deadline passed while the bot was down closes the survey as soon as it is back, with
  the votes cast before the deadline — the close waits for the events received before the
  deadline to be handled first (they are in the inbox, in order);
- a pulse occurrence missed while the bot was down is posted when it comes back, as long
  as its poll would still be open; older missed ones are skipped; an occurrence has one
  poll whatever happens (a unique key on the schedule and the occurrence)."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from apscheduler.triggers.date import DateTrigger

from bot.context import Context
from bot.scheduler import JobContext, Scheduler
from commands.sondages.service import NewSurvey, close, ms, pulse_survey, remind, send_missing_end
from schedules.recurrence import Recurrence
from storage.models.sondages import PulseSchedule, Survey
from storage.repositories.sondages import SurveyRepository

log = logging.getLogger(__name__)

CLOSE_DELAY = timedelta(seconds=2)  # a response sent just before the deadline is in the inbox
PENDING_WAIT = timedelta(seconds=1)  # between two looks at the inbox
PENDING_TRIES = 30
END_RETRY = timedelta(seconds=3)
END_TRIES = 40


def _close_id(survey_id: int) -> str:
    return f"sondages.close:{survey_id}"


def _remind_id(survey_id: int) -> str:
    return f"sondages.remind:{survey_id}"


def _pulse_id(schedule_id: int) -> str:
    return f"sondages.pulse:{schedule_id}"


def _at(moment: datetime) -> DateTrigger:
    # A moment already past runs now (APScheduler would call it a misfire).
    return DateTrigger(max(moment, datetime.now(UTC) + timedelta(milliseconds=50)))


def schedule_survey(scheduler: Scheduler, survey: Survey) -> None:
    """Its close at the deadline and its reminder (if still to send); for a closed
    survey, the end of its poll if that could not be sent yet."""
    if not survey.is_open:
        scheduler.remove(_close_id(survey.id))
        scheduler.remove(_remind_id(survey.id))
        if not survey.anonymous:
            scheduler.add(
                f"sondages.end:{survey.id}",
                run_end,
                _at(datetime.now(UTC)),
                kwargs={"survey_id": survey.id},
                misfire_grace_time=None,
            )
        return
    scheduler.add(
        _close_id(survey.id),
        run_close,
        _at(survey.closes_at + CLOSE_DELAY),
        kwargs={"survey_id": survey.id},
        misfire_grace_time=None,
    )
    if survey.remind_at is not None and survey.reminded_at is None:
        scheduler.add(
            _remind_id(survey.id),
            run_remind,
            _at(survey.remind_at),
            kwargs={"survey_id": survey.id},
            misfire_grace_time=None,
        )


async def run_close(jobs: JobContext, survey_id: int, attempt: int = 0) -> None:
    again: timedelta | None = None
    async with jobs.unit() as ctx:
        survey = await ctx.repos.of(SurveyRepository).get(survey_id)
        if survey is None or not survey.is_open:
            return
        now = ctx.now()
        if now < survey.closes_at:
            again = survey.closes_at - now + CLOSE_DELAY
        elif attempt < PENDING_TRIES and await ctx.repos.inbox.pending_before(ms(survey.closes_at)):
            again = PENDING_WAIT  # votes from before the deadline still to count
        else:
            await close(ctx, survey, by=None)
            await ctx.repos.commit()
            if not survey.anonymous and jobs.services.scheduler is not None:
                schedule_survey(jobs.services.scheduler, survey)
    scheduler = jobs.services.scheduler
    if again is not None and scheduler is not None:
        scheduler.add(
            _close_id(survey_id),
            run_close,
            _at(datetime.now(UTC) + again),
            kwargs={"survey_id": survey_id, "attempt": attempt + 1},
            misfire_grace_time=None,
        )


async def run_end(jobs: JobContext, survey_id: int, attempt: int = 0) -> None:
    """The end of a poll closed before it was sent, once it is."""
    async with jobs.unit() as ctx:
        survey = await ctx.repos.of(SurveyRepository).get(survey_id)
        if survey is None:
            return
        waiting = await send_missing_end(ctx, survey)
        await ctx.repos.commit()
    scheduler = jobs.services.scheduler
    if waiting and attempt < END_TRIES and scheduler is not None:
        scheduler.add(
            f"sondages.end:{survey_id}",
            run_end,
            _at(datetime.now(UTC) + END_RETRY),
            kwargs={"survey_id": survey_id, "attempt": attempt + 1},
            misfire_grace_time=None,
        )


async def run_remind(jobs: JobContext, survey_id: int) -> None:
    async with jobs.unit() as ctx:
        survey = await ctx.repos.of(SurveyRepository).get(survey_id)
        if survey is None or not survey.is_open or survey.reminded_at is not None:
            return
        if survey.remind_at is None or ctx.now() < survey.remind_at or ctx.now() >= survey.closes_at:
            return
        sent = await remind(ctx, survey)
        await ctx.repos.commit()
    log.info("survey %d: %d reminders queued", survey_id, sent)


# --- recurring pulses --------------------------------------------------------------------------
def schedule_pulse(scheduler: Scheduler, schedule: PulseSchedule) -> None:
    """Wake at the schedule's next occurrence."""
    rule = Recurrence.from_json(schedule.recurrence)
    upcoming = rule.next_after(datetime.now(UTC))
    if upcoming is None:
        scheduler.remove(_pulse_id(schedule.id))
        return
    scheduler.add(
        _pulse_id(schedule.id),
        run_pulse,
        _at(upcoming),
        kwargs={"schedule_id": schedule.id},
        misfire_grace_time=None,
    )


def unschedule_pulse(scheduler: Scheduler, schedule_id: int) -> None:
    scheduler.remove(_pulse_id(schedule_id))


async def post_due_pulse(ctx: Context, schedule: PulseSchedule) -> Survey | None:
    """The poll of the schedule's due occurrence, if it has none yet: the latest
    occurrence at or before now, while its poll would still be open."""
    rule = Recurrence.from_json(schedule.recurrence)
    duration = timedelta(seconds=schedule.duration_s)
    occurrence = rule.due(ctx.now(), after=schedule.created_at, grace=duration)
    if occurrence is None:
        return None
    key = rule.key(occurrence)
    if await ctx.repos.of(SurveyRepository).for_occurrence(schedule.id, key) is not None:
        return None
    question, answers = pulse_survey(ctx, schedule.kind, question=schedule.question)
    from commands.sondages.service import create

    return await create(
        ctx,
        NewSurvey(
            question=question,
            answers=answers,
            kind=schedule.kind,
            anonymous=schedule.anonymous,
            audience=schedule.audience,
            closes_at=occurrence + duration,
            schedule_id=schedule.id,
            occurrence=key,
        ),
        room_id=schedule.room_id,
        author=schedule.author_id,
    )


async def run_pulse(jobs: JobContext, schedule_id: int) -> None:
    async with jobs.unit() as ctx:
        schedule = await ctx.repos.of(SurveyRepository).schedule(schedule_id)
        if schedule is None or schedule.stopped_at is not None:
            return
        survey = await post_due_pulse(ctx, schedule)
        await ctx.repos.commit()
    scheduler = jobs.services.scheduler
    if scheduler is None:
        return
    if survey is not None:
        log.info("pulse %d: survey %d posted (%s)", schedule_id, survey.id, survey.occurrence)
        schedule_survey(scheduler, survey)
    schedule_pulse(scheduler, schedule)


async def setup(scheduler: Scheduler) -> None:
    """Rebuild every survey's and every pulse's jobs from the database; post the pulse
    occurrences missed while the bot was down (once each)."""
    async with scheduler.jobs.db.unit() as repos:
        surveys = await repos.of(SurveyRepository).open_surveys()
        schedules = await repos.of(SurveyRepository).active_schedules()
    for survey in surveys:
        schedule_survey(scheduler, survey)
    for schedule in schedules:
        await run_pulse(scheduler.jobs, schedule.id)
    if surveys or schedules:
        log.info("%d open surveys and %d pulses rescheduled", len(surveys), len(schedules))
