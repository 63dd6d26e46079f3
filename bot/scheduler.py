"""One APScheduler 3 `AsyncIOScheduler`, owned by the app, in the configured time zone.

The database is the source of truth for what is due; at start every registered job
source rebuilds its jobs from it (stable ids, `replace_existing`), so a restart loses
nothing. Jobs are plain async functions that take ids; they get a `JobContext` to open a
unit of work and queue messages."""

from __future__ import annotations

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

    def remove(self, job_id: str) -> None:
        if self._scheduler.get_job(job_id):
            self._scheduler.remove_job(job_id)

    def job_ids(self) -> list[str]:
        return [j.id for j in self._scheduler.get_jobs()]

    def next_run(self, job_id: str) -> datetime | None:
        job = self._scheduler.get_job(job_id)
        return job.next_run_time if job else None

    async def _run(self, job_id: str, fn: Callable[..., Awaitable[Any]], **kwargs: Any) -> None:
        try:
            await fn(self.jobs, **kwargs)
        except Exception:
            log.exception("job %s failed (réf. %s)", job_id, error_reference())

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
