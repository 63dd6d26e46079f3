"""The optional local HTTP endpoint (`[monitoring] listen = "127.0.0.1:9464"`):

- `GET /healthz`: JSON — the process's role (active, standby, starting), whether it
  serves, the age of the last sync, the outbox backlog, the database's latency. HTTP 200
  when the process does its job in its role (a standby waiting, with its database in
  reach, is healthy), 503 otherwise;
  for a container's health check or a load balancer that must find the active one
  (`/healthz?active` answers 200 only there).
- `GET /metrics`: Prometheus text format, with the official client library: commands by
  command and outcome, handling time, event lag, sync age, outbox backlog, scheduled
  jobs, database latency, and the process's own CPU and memory.

It reads what the running app knows; the database is asked two tiny questions per
request (bounded by a timeout), so a scrape never stalls the bot."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from bot.metrics import STATS, Stats

if TYPE_CHECKING:
    from aiohttp import web

    from bot.app import App
    from bot.standby import Supervisor

log = logging.getLogger(__name__)

PROBE_TIMEOUT = 2.0
STALE_SYNC_SECONDS = 90.0  # a long-poll sync returns every 30 s at most


@dataclass
class Probe:
    role: str
    ready: bool
    sync_age: float | None
    outbox_backlog: int | None
    database_seconds: float | None
    scheduled_jobs: int | None
    takeovers: int
    database_reachable: bool = True

    @property
    def healthy(self) -> bool:
        if self.role == "standby":  # waiting is its job, as long as it can reach the database
            return self.database_reachable
        return (
            self.role == "active"
            and self.ready
            and self.database_seconds is not None
            and self.sync_age is not None
            and self.sync_age < STALE_SYNC_SECONDS
        )

    def as_json(self) -> dict[str, Any]:
        return {
            "status": "ok" if self.healthy else "unavailable",
            "role": self.role,
            "ready": self.ready,
            "last_sync_age_s": _round(self.sync_age),
            "outbox_backlog": self.outbox_backlog,
            "database_latency_ms": _round(self.database_seconds and self.database_seconds * 1000),
            "scheduled_jobs": self.scheduled_jobs,
            "takeovers": self.takeovers,
        }


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


async def probe(supervisor: Supervisor) -> Probe:
    app: App | None = supervisor.app  # type: ignore[assignment]
    ready = app is not None and app.started.is_set()
    backlog = seconds = None
    jobs = None
    if app is not None and ready:
        jobs = len(app.scheduler.job_ids())
        try:
            started = time.perf_counter()
            async with asyncio.timeout(PROBE_TIMEOUT), app.db.unit() as repos:
                backlog = await repos.outbox.pending_count()
            seconds = time.perf_counter() - started
        except Exception as exc:
            log.warning("health probe: database did not answer (%s)", type(exc).__name__)
    return Probe(
        role=supervisor.role,
        ready=ready,
        sync_age=STATS.sync_age() if ready else None,
        outbox_backlog=backlog,
        database_seconds=seconds,
        scheduled_jobs=jobs,
        takeovers=supervisor.takeovers,
        database_reachable=supervisor.lease.reachable,
    )


class _Collector:
    """Turns `Stats` and the last probe into Prometheus metric families."""

    def __init__(self, stats: Stats) -> None:
        self.stats = stats
        self.last: Probe | None = None

    def describe(self) -> list[Any]:
        return []  # collected at scrape time only

    def collect(self) -> Iterator[Any]:
        from prometheus_client.core import (
            CounterMetricFamily,
            GaugeMetricFamily,
            HistogramMetricFamily,
        )

        s = self.stats
        commands = CounterMetricFamily(
            "oasis_commands",
            "Commands handled, by command and outcome (ok, refused, failed, retried, duplicate).",
            labels=["command", "outcome"],
        )
        for (command, outcome), n in sorted(s.commands.items()):
            commands.add_metric([command, outcome], n)
        yield commands
        events = CounterMetricFamily("oasis_events", "Events handled, by type.", labels=["type"])
        for etype, n in sorted(s.events.items()):
            events.add_metric([etype], n)
        yield events
        for name, doc, hist in (
            ("oasis_handling_seconds", "Time to handle one event (its unit of work).", s.duration),
            ("oasis_event_lag_seconds", "From an event's arrival on the homeserver to its handling.", s.lag),
        ):
            family = HistogramMetricFamily(name, doc)
            family.add_metric([], hist.cumulative(), sum_value=hist.total)
            yield family
        yield CounterMetricFamily("oasis_syncs", "Syncs that came back.", value=s.syncs)
        p = self.last
        if p is None:
            return
        active = int(p.role == "active")
        yield GaugeMetricFamily("oasis_active", "1 if this process is the active one.", value=active)
        yield GaugeMetricFamily("oasis_ready", "1 if the bot serves.", value=int(p.ready))
        yield CounterMetricFamily("oasis_takeovers", "Times this process became active.", value=p.takeovers)
        for name, doc, value in (
            ("oasis_sync_age_seconds", "Seconds since the last sync came back (sync lag).", p.sync_age),
            ("oasis_outbox_pending", "Messages waiting to be sent.", p.outbox_backlog),
            ("oasis_scheduled_jobs", "Jobs waiting in the scheduler.", p.scheduled_jobs),
            ("oasis_database_latency_seconds", "Time of a small query through the pool.", p.database_seconds),
        ):
            if value is not None:
                yield GaugeMetricFamily(name, doc, value=value)


class HealthServer:
    def __init__(self, supervisor: Supervisor, listen: str) -> None:
        self.supervisor = supervisor
        host, _, port = listen.rpartition(":")
        self.host = host.strip("[]")
        self.port = int(port)
        self._runner: web.AppRunner | None = None
        self._collector = _Collector(STATS)
        self._registry: Any = None

    async def start(self) -> None:
        from aiohttp import web
        from prometheus_client import CollectorRegistry, PlatformCollector, ProcessCollector

        self._registry = CollectorRegistry()
        ProcessCollector(registry=self._registry)
        PlatformCollector(registry=self._registry)
        self._registry.register(self._collector)
        app = web.Application()
        app.router.add_get("/healthz", self._healthz)
        app.router.add_get("/metrics", self._metrics)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        log.info("health and metrics on http://%s:%d/ (/healthz, /metrics)", self.host, self.port)

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _healthz(self, request: web.Request) -> web.Response:
        from aiohttp import web

        p = await probe(self.supervisor)
        ok = p.healthy and ("active" not in request.query or p.role == "active")
        return web.Response(
            status=200 if ok else 503, text=json.dumps(p.as_json()), content_type="application/json"
        )

    async def _metrics(self, _request: web.Request) -> web.Response:
        from aiohttp import web
        from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

        self._collector.last = await probe(self.supervisor)
        body = generate_latest(self._registry)
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})
