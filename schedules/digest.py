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

from bot.dates import iso_week
from bot.scheduler import JobContext, Scheduler, job_source
from commands.digest import DigestConfig, publish
from commands.signals import SIGNALS_DATA

log = logging.getLogger(__name__)

JOB_ID = "digest.weekly"
CATCH_UP_ID = "digest.catch_up"
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
    # A slot missed while the bot was down: posted now if still within grace.
    await run_digest(scheduler.jobs)
