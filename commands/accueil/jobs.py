"""The welcome batching job: one job per group of rooms with welcomes waiting, run when
the group's window closes.

The waiting `welcomes` rows are the source of truth: at start every group with waiting
rows gets its job back (posted at once if its window closed while the bot was down). A
run claims the rows and queues the messages in one unit of work, with a dedup key per
batch, so a crash or a restart posts each welcome exactly once."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from apscheduler.triggers.date import DateTrigger

from bot.scheduler import JobContext, Scheduler
from commands.accueil.config import AccueilConfig
from commands.accueil.service import due_at, next_due, post_batch

log = logging.getLogger(__name__)

JOB_PREFIX = "welcome.batch:"


def schedule_batch(scheduler: Scheduler, group_key: str, delay: timedelta) -> None:
    """(Re)schedule the group's batch `delay` from now (replacing an earlier plan: each
    arrival pushes the quiet window back, within `batch_max_seconds`)."""
    when = datetime.now(UTC) + max(delay, timedelta(0))
    scheduler.add(
        JOB_PREFIX + group_key,
        run_batch,
        DateTrigger(when),
        kwargs={"group_key": group_key},
        misfire_grace_time=None,  # late is better than never: always run
    )


async def run_batch(jobs: JobContext, group_key: str) -> None:
    async with jobs.unit() as ctx:
        again = await post_batch(ctx, group_key)
        await ctx.repos.commit()
        if again is None:
            # Arrivals committed while this batch was being posted wait for their own.
            again = await next_due(ctx, group_key)
        now = ctx.now()
    scheduler = jobs.services.scheduler
    if again is not None and scheduler is not None:
        schedule_batch(scheduler, group_key, again - now)


async def setup(scheduler: Scheduler) -> None:
    """Rebuild the jobs of the batches that were waiting when the bot stopped."""
    jobs = scheduler.jobs
    cfg = jobs.services.config.section(AccueilConfig)
    async with jobs.db.unit() as repos:
        groups = await repos.welcomes.pending_groups()
    now = jobs.services.now()
    for group in groups:
        schedule_batch(scheduler, group.group_key, due_at(group, cfg) - now)
    if groups:
        log.info("%d welcome batches waiting since the last stop rescheduled", len(groups))
