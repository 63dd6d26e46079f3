"""When the weekly digest is due, and the job that posts it.

Scheduling is a pure function of « now » (`due_slot`), so it is tested with a frozen
clock: the cron trigger only wakes the job at the configured time, and the same job runs
once at start, which is how a digest missed while the bot was down is posted when it
comes back, within the grace period. Posting twice is impossible by construction (see
`commands.digest.publish`)."""

from __future__ import annotations

import logging

from apscheduler.triggers.cron import CronTrigger

from bot.scheduler import JobContext, Scheduler, job_source
from commands.digest import DigestConfig, publish, schedule_threads
from commands.digest_slots import due_slot, week_of
from commands.signals import SIGNALS_DATA

log = logging.getLogger(__name__)

JOB_ID = "digest.weekly"
_CRON_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


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
    # A slot missed while the bot was down: posted now if still within grace; a thread
    # interrupted by a stop: completed.
    await run_digest(scheduler.jobs)
    schedule_threads(scheduler)
