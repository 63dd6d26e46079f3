"""When the weekly digest is due, and the job that posts it.

Scheduling is a pure function of « now » (`due_slot`), so it is tested with a frozen
clock: the cron trigger only wakes the job at the configured time, and the same job runs
once at start, which is how a digest missed while the bot was down is posted when it
comes back, within the grace period. Posting twice is impossible by construction (see
`commands.digest.publish`)."""

from __future__ import annotations

import logging
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.date import DateTrigger

from bot.dates import iso_week
from bot.scheduler import JobContext, Scheduler, job_source
from commands.digest import DigestConfig, post_thread, publish
from commands.signals import SIGNALS_DATA

log = logging.getLogger(__name__)

JOB_ID = "digest.weekly"
THREAD_JOB_ID = "digest.thread"
THREAD_WINDOW = timedelta(days=2)  # digests whose threads may still need completing
THREAD_RETRY = timedelta(seconds=3)
_CRON_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def local_moment(day: date, at: time, tz: ZoneInfo) -> datetime:
    """`day` at `at` wall-clock time in `tz`; a time skipped by the spring DST change is
    moved past the gap (02:30 → 03:30), an ambiguous autumn time is its first occurrence."""
    naive = datetime.combine(day, at)
    aware = naive.replace(tzinfo=tz)
    back = aware.astimezone(ZoneInfo("UTC")).astimezone(tz)
    return back if back.replace(tzinfo=None) != naive else aware


def last_slot(now: datetime, weekday: int, at: time, tz: ZoneInfo) -> datetime:
    """The latest scheduled moment at or before `now`."""
    local = now.astimezone(tz)
    day = local.date() - timedelta(days=(local.weekday() - weekday) % 7)
    slot = local_moment(day, at, tz)
    if slot > now:
        slot = local_moment(day - timedelta(days=7), at, tz)
    return slot


def next_slot(now: datetime, weekday: int, at: time, tz: ZoneInfo) -> datetime:
    """The next scheduled moment strictly after `now`."""
    previous = last_slot(now, weekday, at, tz)
    return local_moment(previous.astimezone(tz).date() + timedelta(days=7), at, tz)


def grace_end(slot: datetime, grace_hours: int | None, tz: ZoneInfo) -> datetime:
    """Until when a missed digest is still posted: the end of the scheduled day (local
    midnight), or `grace_hours` after the slot."""
    if grace_hours is None:
        return local_moment(slot.astimezone(tz).date() + timedelta(days=1), time(0, 0), tz)
    return slot + timedelta(hours=grace_hours)


def due_slot(now: datetime, weekday: int, at: time, tz: ZoneInfo, grace_hours: int | None) -> datetime | None:
    """The slot whose digest should be posted at `now`, if any."""
    slot = last_slot(now, weekday, at, tz)
    return slot if now < grace_end(slot, grace_hours, tz) else None


def week_of(slot: datetime, tz: ZoneInfo) -> str:
    return iso_week(slot.astimezone(tz).date())


async def run_digest(jobs: JobContext) -> None:
    """Post the digest if one is due now; a no-op otherwise (and for rooms that have it)."""
    cfg = jobs.services.config.section(DigestConfig)
    if not cfg.rooms:
        return
    tz = jobs.services.tz
    now = jobs.services.now()
    slot = due_slot(now, cfg.weekday, cfg.at, tz, cfg.grace_hours)
    if slot is None:
        return
    week = week_of(slot, tz)
    async with jobs.unit() as ctx:
        result = await publish(ctx, week, rooms=cfg.rooms)
        await ctx.repos.commit()
    if result.rooms:
        log.info(
            "digest %s queued for %d rooms (%d signals)", week, len(result.rooms), len(result.digest.items)
        )


async def complete_threads(jobs: JobContext) -> bool:
    """Post the thread of each digest message already delivered (its event id is known
    only then). Returns True when some digest message is still waiting to be sent."""
    cfg = jobs.services.config.section(DigestConfig)
    if not cfg.support_thread:
        return False
    waiting = False
    async with jobs.unit() as ctx:
        for digest in await ctx.repos.digests.archives(limit=3):
            if not digest.items or not digest.rooms or digest.created_at < ctx.now() - THREAD_WINDOW:
                continue
            sent = {
                e.room_id: e.event_id for e in await ctx.repos.outbox.events_for_tag(f"digest:{digest.id}")
            }
            for room in digest.rooms:
                if room in sent:
                    await post_thread(ctx, digest, room, sent[room])
                else:
                    waiting = True
        await ctx.repos.commit()
    return waiting


async def run_threads(jobs: JobContext, attempt: int = 0) -> None:
    if await complete_threads(jobs) and attempt < 40 and jobs.services.scheduler is not None:
        schedule_threads(jobs.services.scheduler, attempt + 1)


def schedule_threads(scheduler: Scheduler, attempt: int = 0) -> None:
    """Complete the digest threads shortly, once the digest messages are delivered."""
    when = datetime.now(ZoneInfo("UTC")) + THREAD_RETRY
    scheduler.add(THREAD_JOB_ID, run_threads, DateTrigger(when), kwargs={"attempt": attempt})


@job_source
async def setup(scheduler: Scheduler) -> None:
    config = scheduler.jobs.services.config
    SIGNALS_DATA.configure(config)
    cfg = config.section(DigestConfig)
    if not cfg.rooms:
        scheduler.remove(JOB_ID)
        return
    trigger = CronTrigger(
        day_of_week=_CRON_DAYS[cfg.weekday], hour=cfg.at.hour, minute=cfg.at.minute, timezone=scheduler.tz
    )
    # The cron job may fire late (event loop busy, machine asleep): `run_digest` decides
    # from the clock, so a late run within grace still posts, once.
    scheduler.add(JOB_ID, run_digest, trigger, misfire_grace_time=None)
    # A slot missed while the bot was down: posted now if still within grace; a thread
    # interrupted by a stop: completed.
    await run_digest(scheduler.jobs)
    schedule_threads(scheduler)
