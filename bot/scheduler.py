"""One APScheduler 3 `AsyncIOScheduler`, owned by the app, in the configured time zone.

The database is the source of truth for what is due; at start every registered job
source rebuilds its jobs from it (stable ids, `replace_existing`), so a restart loses
nothing. Jobs are plain async functions that take ids; they get a `JobContext` to open a
unit of work and queue messages."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.context import Context
from bot.errors import error_reference
from bot.roles import Role

if TYPE_CHECKING:
    from bot.context import Services
    from storage.db import Database

log = logging.getLogger(__name__)


@dataclass
class JobContext:
    """What a job gets: the services, and units of work that become a `Context` whose
    messages go to the room the job names."""

    services: Services
    db: Database
    wake_sender: Callable[[], None]

    @asynccontextmanager
    async def unit(self, room_id: str = "", locale: str | None = None) -> AsyncIterator[Context]:
        """A context for a job (no sender): commit is the job's call; the sender is woken
        after a successful exit."""
        async with self.db.unit() as repos:
            ctx = Context(
                services=self.services,
                repos=repos,
                sender=self.services.bot_user_id,
                room_id=room_id,
                event_id=None,
                is_direct=False,
                locale=locale or self.services.config.bot.language,
                role=Role.ADMIN,
            )
            yield ctx
        self.wake_sender()


JobSource = Callable[["Scheduler"], Awaitable[None]]
_sources: list[JobSource] = []


def job_source(fn: JobSource) -> JobSource:
    """Register a function that (re)creates a feature's jobs from the database at start."""
    _sources.append(fn)
    return fn


class Scheduler:
    def __init__(self, jobs: JobContext) -> None:
        self.jobs = jobs
        self._scheduler = AsyncIOScheduler(timezone=jobs.services.tz)
        # A job that sets its own next run while it runs (the welcome batches, the
        # reminders): APScheduler would skip a run falling due before this one ends (one
        # instance at a time) and drop a date trigger for good. So the new plan waits
        # for the run to end, then is applied.
        self._running: set[str] = set()
        self._deferred: dict[str, tuple[Callable[[], None], datetime | None]] = {}

    @property
    def tz(self) -> Any:
        return self.jobs.services.tz

    def add(
        self,
        job_id: str,
        fn: Callable[..., Awaitable[Any]],
        trigger: Any,
        *,
        kwargs: dict[str, Any] | None = None,
        misfire_grace_time: int | None = 3600,
        next_run_time: datetime | None = None,
    ) -> None:
        """Add or replace a job. `fn(jobs: JobContext, **kwargs)` runs with errors logged
        under a reference, never crashing the scheduler."""
        extra: dict[str, Any] = {}
        if next_run_time is not None:
            extra["next_run_time"] = next_run_time

        def schedule() -> None:
            self._scheduler.add_job(
                self._run,
                trigger,
                id=job_id,
                args=[job_id, fn],
                kwargs=kwargs or {},
                replace_existing=True,
                misfire_grace_time=misfire_grace_time,
                coalesce=True,
                max_instances=1,
                **extra,
            )

        if job_id in self._running:
            when = next_run_time or trigger.get_next_fire_time(None, datetime.now(self.tz))
            self._deferred[job_id] = (schedule, when)
            return
        schedule()

    def remove(self, job_id: str) -> None:
        self._deferred.pop(job_id, None)
        if self._scheduler.get_job(job_id):
            self._scheduler.remove_job(job_id)

    def job_ids(self) -> list[str]:
        ids = [j.id for j in self._scheduler.get_jobs()]
        return ids + [k for k in self._deferred if k not in ids]

    def run_soon(self, prefix: str) -> int:
        """Bring the jobs whose id starts with `prefix` forward to now (the demo's feed is
        polled at once instead of within a minute); returns how many."""
        now = datetime.now(self.tz)
        jobs = [j for j in self._scheduler.get_jobs() if j.id.startswith(prefix)]
        for job in jobs:
            job.modify(next_run_time=now)
        return len(jobs)

    def next_run(self, job_id: str) -> datetime | None:
        if job_id in self._deferred:
            return self._deferred[job_id][1]
        job = self._scheduler.get_job(job_id)
        return job.next_run_time if job else None

    async def _run(self, job_id: str, fn: Callable[..., Awaitable[Any]], **kwargs: Any) -> None:
        self._running.add(job_id)
        try:
            await fn(self.jobs, **kwargs)
        except Exception:
            log.exception("job %s failed (réf. %s)", job_id, error_reference())
        finally:
            # Once APScheduler counts this run as over (its own callback on the task,
            # added before this one), not before: else the new run would be skipped too.
            task = asyncio.current_task()
            if task is not None:
                task.add_done_callback(lambda _task: self._ended(job_id))
            else:
                self._ended(job_id)

    def _ended(self, job_id: str) -> None:
        self._running.discard(job_id)
        deferred = self._deferred.pop(job_id, None)
        if deferred is not None and self._scheduler.running:
            deferred[0]()

    async def start(self) -> None:
        for source in _sources:
            try:
                await source(self)
            except Exception:
                log.exception("job source %s failed (réf. %s)", source.__qualname__, error_reference())
        self._scheduler.start()

    def shutdown(self) -> None:
        if self._scheduler.running:
            self._scheduler.shutdown(wait=False)
