"""A job that sets its own next run while it runs is not lost (APScheduler skips a run
falling due while the same job still runs, and drops a date trigger for good)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from apscheduler.triggers.date import DateTrigger

from bot.scheduler import JobContext, Scheduler
from tests.support.fakes import make_services


@pytest.fixture(autouse=True)
def no_feature_jobs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("bot.scheduler._sources", [])


async def test_a_job_rescheduled_to_now_while_running_runs_again() -> None:
    scheduler = Scheduler(JobContext(make_services(), None, lambda: None))  # type: ignore[arg-type]
    runs: list[int] = []

    async def job(jobs: Any, n: int) -> None:
        runs.append(n)
        if n < 3:
            # As the welcome batches do: the next batch is due now (arrivals meanwhile).
            scheduler.add(
                "self", job, DateTrigger(datetime.now(UTC)), kwargs={"n": n + 1}, misfire_grace_time=None
            )
            assert scheduler.next_run("self") is not None and "self" in scheduler.job_ids()
            await asyncio.sleep(0.2)  # still running when the new run falls due

    scheduler.add("self", job, DateTrigger(datetime.now(UTC) + timedelta(milliseconds=50)), kwargs={"n": 1})
    await scheduler.start()
    try:
        for _ in range(60):
            if len(runs) == 3:
                break
            await asyncio.sleep(0.05)
    finally:
        scheduler.shutdown()
    assert runs == [1, 2, 3]


async def test_removed_while_running_stays_removed() -> None:
    scheduler = Scheduler(JobContext(make_services(), None, lambda: None))  # type: ignore[arg-type]
    runs: list[int] = []

    async def job(jobs: Any) -> None:
        runs.append(1)
        scheduler.add("once", job, DateTrigger(datetime.now(UTC)))
        scheduler.remove("once")
        await asyncio.sleep(0.1)

    scheduler.add("once", job, DateTrigger(datetime.now(UTC) + timedelta(milliseconds=50)))
    await scheduler.start()
    await asyncio.sleep(0.6)
    scheduler.shutdown()
    assert runs == [1] and scheduler.job_ids() == []
