"""The reminders job: one job that wakes at the next reminder's moment, posts what is
due, and sets itself for the one after.

What is due is `plan_reminders(now, database)`: the job may run late (after a
downtime: only the closest missed reminder, and only before the start), early or twice
(a restart) — each reminder is recorded in the same unit of work as its messages, so it
is posted once. Commands that set a start wake the job earlier when needed
(`wake_for`); an hourly run is a safety net."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger

from bot.context import Context, Reply
from bot.scheduler import JobContext, Scheduler, job_source
from commands.evenements.config import EventsConfig
from commands.evenements.render import reminder as reminder_text
from commands.evenements.service import SENT, SKIPPED, PlannedEvent, Reminder, plan_reminders
from storage.models.evenements import Event
from storage.repositories.evenements import Counts

log = logging.getLogger(__name__)

JOB_ID = "evenements.rappels"
SAFETY_JOB_ID = "evenements.rappels.veille"


async def post_reminder(ctx: Context, event: Event, reminder: Reminder) -> None:
    """In each of the event's rooms: a notice when more than a day ahead; closer, a
    message mentioning those signed up who did not turn reminders off."""
    tr = ctx.services.translator()
    counts = (await ctx.repos.events.counts([event.id])).get(event.id, Counts())
    rich = reminder_text(tr, event, reminder.offset, counts, ctx.now(), ctx.prefix)
    mentions: list[str] = []
    if reminder.mentions:
        going = await ctx.repos.events.attendees(event.id)
        silent = await ctx.repos.settings.without_reminders(going)
        mentions = [u for u in going if u not in silent]
    stamp = int(reminder.starts_at.timestamp())
    for room in event.rooms:
        await ctx.send(
            Reply(rich=rich, mentions=mentions),
            room_id=room,
            dedup_key=f"evenements:{event.id}:rappel:{reminder.offset_seconds}:{stamp}:{room}",
        )


async def run_reminders(jobs: JobContext) -> None:
    """Post the reminders due now, then set the job for the next one."""
    offsets = jobs.services.config.section(EventsConfig).offsets
    next_at: datetime | None = None
    if offsets:
        async with jobs.unit() as ctx:
            now = ctx.now()
            states = await ctx.repos.events.reminder_states(now)
            plan = plan_reminders(
                now, [PlannedEvent(s.id, s.starts_at, s.scheduled_at, s.done) for s in states], offsets
            )
            for r in plan.skipped:
                await ctx.repos.events.mark_reminder(r.event_id, r.offset_seconds, r.starts_at, SKIPPED)
            posted = 0
            for r in plan.due:
                event = await ctx.repos.events.get(r.event_id)
                if event is None or not await ctx.repos.events.mark_reminder(
                    r.event_id, r.offset_seconds, r.starts_at, SENT
                ):
                    continue  # handled by another run meanwhile
                await post_reminder(ctx, event, r)
                posted += 1
            await ctx.repos.commit()
            next_at = plan.next_at
        if posted or plan.skipped:
            log.info("event reminders: %d posted, %d missed ones skipped", posted, len(plan.skipped))
    scheduler = jobs.services.scheduler
    if scheduler is not None:
        schedule_at(scheduler, next_at)


def schedule_at(scheduler: Scheduler, when: datetime | None) -> None:
    if when is None:
        scheduler.remove(JOB_ID)
        return
    scheduler.add(JOB_ID, run_reminders, DateTrigger(when), misfire_grace_time=None)


def wake_for(ctx: Context, event: Event) -> None:
    """An event's start was set: bring the job forward if its first reminder comes
    before the job's next run. (Its unit commits before that moment: a reminder is
    never due at the moment the start is set.)"""
    scheduler = ctx.services.scheduler
    if scheduler is None:
        return
    offsets = ctx.config.section(EventsConfig).offsets
    plan = plan_reminders(ctx.now(), [PlannedEvent(event.id, event.starts_at, event.scheduled_at)], offsets)
    if plan.next_at is None:
        return
    current = scheduler.next_run(JOB_ID)
    if current is None or plan.next_at < current:
        schedule_at(scheduler, max(plan.next_at, datetime.now(UTC) + timedelta(milliseconds=200)))


async def safety_run(jobs: JobContext) -> None:
    await run_reminders(jobs)


@job_source
async def setup(scheduler: Scheduler) -> None:
    """At start: post what was missed while the bot was down (if still before the
    start), and plan the next reminder."""
    scheduler.add(SAFETY_JOB_ID, safety_run, IntervalTrigger(hours=1), misfire_grace_time=None)
    await run_reminders(scheduler.jobs)
