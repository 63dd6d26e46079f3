"""The scheduled announcements' job: one job set for the next occurrence of any active
announcement; at each run it handles what is due (`due_step`) and sets itself again.

Exactly once per occurrence: the announcement's `last_occurrence` moves forward in the
same unit of work as the queued messages, only if no other run moved it first, and each
message's dedup key names the occurrence (`annonces:<n°>:<occurrence>:<room>`). A run at
start posts what was missed within the grace period."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger

from bot.context import Context, Reply
from bot.formatting import Rich
from bot.scheduler import JobContext, Scheduler, job_source
from commands.annonces.config import AnnouncementsConfig
from commands.annonces.service import due_step, next_time
from schedules.recurrence import Recurrence
from storage.models.annonces import Announcement

log = logging.getLogger(__name__)

JOB_ID = "annonces.planifiees"
SAFETY_JOB_ID = "annonces.planifiees.veille"


def rule_of(announcement: Announcement) -> Recurrence | None:
    return Recurrence.from_json(announcement.recurrence) if announcement.recurrence else None


async def post(ctx: Context, announcement: Announcement, occurrence: datetime) -> None:
    rule = rule_of(announcement)
    key = rule.key(occurrence) if rule else occurrence.astimezone(UTC).isoformat(timespec="seconds")
    for room in announcement.rooms:
        await ctx.send(
            Reply(rich=Rich.text(announcement.text)),
            room_id=room,
            dedup_key=f"annonces:{announcement.id}:{key}:{room}",
        )


async def run_announcements(jobs: JobContext) -> None:
    """Post the occurrences due now, then set the job for the next one."""
    grace = jobs.services.config.section(AnnouncementsConfig).grace
    upcoming: list[datetime] = []
    posted = skipped = 0
    async with jobs.unit() as ctx:
        now = ctx.now()
        for ann in await ctx.repos.announcements.active():
            rule = rule_of(ann)
            step = due_step(
                now, at=ann.at, rule=rule, last=ann.last_occurrence, created=ann.created_at, grace=grace
            )
            last = ann.last_occurrence
            if step is not None and await ctx.repos.announcements.advance(
                ann.id, step.occurrence, posted=step.post, last=step.final
            ):
                last = step.occurrence
                if step.post:
                    await post(ctx, ann, step.occurrence)
                    posted += 1
                else:
                    skipped += 1
                if step.final:
                    continue
            following = next_time(now, at=ann.at, rule=rule, last=last, created=ann.created_at)
            if following is not None:
                upcoming.append(following)
        await ctx.repos.commit()
    if posted or skipped:
        log.info("scheduled announcements: %d posted, %d missed beyond grace skipped", posted, skipped)
    scheduler = jobs.services.scheduler
    if scheduler is not None:
        schedule_at(scheduler, min(upcoming, key=lambda d: d.astimezone(UTC)) if upcoming else None)


def schedule_at(scheduler: Scheduler, when: datetime | None) -> None:
    if when is None:
        scheduler.remove(JOB_ID)
        return
    scheduler.add(JOB_ID, run_announcements, DateTrigger(when), misfire_grace_time=None)


def wake_at(ctx: Context, when: datetime | None) -> None:
    """A new announcement: bring the job forward if it comes first. (The command's unit
    commits before then: an occurrence is never due the moment it is scheduled.)"""
    scheduler = ctx.services.scheduler
    if scheduler is None or when is None:
        return
    current = scheduler.next_run(JOB_ID)
    if current is None or when.astimezone(UTC) < current.astimezone(UTC):
        schedule_at(scheduler, max(when.astimezone(UTC), datetime.now(UTC) + timedelta(milliseconds=200)))


async def safety_run(jobs: JobContext) -> None:
    await run_announcements(jobs)


@job_source
async def setup(scheduler: Scheduler) -> None:
    """At start: post what was missed within grace, and plan the next occurrence."""
    scheduler.add(SAFETY_JOB_ID, safety_run, IntervalTrigger(hours=1), misfire_grace_time=None)
    await run_announcements(scheduler.jobs)
