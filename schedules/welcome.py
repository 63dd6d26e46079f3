"""The welcome batching job: one job per group of rooms with welcomes waiting, run when
the group's window closes.

The waiting `welcomes` rows are the source of truth: at start every group with waiting
rows gets its job back (posted at once if its window closed while the bot was down). A
run claims the rows and queues the messages in one unit of work, with a dedup key per
batch, so a crash or a restart posts each welcome exactly once."""

from __future__ import annotations

import logging

from bot.scheduler import Scheduler, job_source
from commands.welcome import WelcomeConfig, due_at, schedule_batch

log = logging.getLogger(__name__)


@job_source
async def setup(scheduler: Scheduler) -> None:
    """Rebuild the jobs of the batches that were waiting when the bot stopped."""
    jobs = scheduler.jobs
    cfg = jobs.services.config.section(WelcomeConfig)
    async with jobs.db.unit() as repos:
        groups = await repos.welcomes.pending_groups()
    now = jobs.services.now()
    for group in groups:
        schedule_batch(scheduler, group.group_key, due_at(group, cfg) - now)
    if groups:
        log.info("%d welcome batches waiting since the last stop rescheduled", len(groups))
