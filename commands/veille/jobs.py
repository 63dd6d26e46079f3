"""Polling the veille's feeds: one job per feed, politely.

- Conditional GET and bounds (`fetch.py`).
- A broken, slow or unreachable feed is logged and retried later with a growing delay
  (interval × 2^failures, at most a day); it never raises into the scheduler, and each
  feed has its own job, so one feed never holds up another or the bot."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
from apscheduler.triggers.interval import IntervalTrigger

from bot.scheduler import JobContext, Scheduler
from commands.veille.config import FeedSource, VeilleConfig
from commands.veille.fetch import FeedError, fetch
from commands.veille.parsing import Entry, matching_keywords, parse_entries

log = logging.getLogger(__name__)

MAX_BACKOFF = timedelta(days=1)


@dataclass
class PollReport:
    url: str
    status: str  # "new", "unchanged", "skipped", "failed"
    added: int = 0
    error: str | None = None


def guid_key(feed_url: str, guid: str) -> str:
    return hashlib.sha256(f"{feed_url}\n{guid}".encode()).hexdigest()[:64]


def job_id(url: str) -> str:
    return "veille." + hashlib.sha1(url.encode()).hexdigest()[:12]


def backoff(interval: timedelta, failures: int) -> timedelta:
    return min(interval * (2 ** min(failures, 10)), MAX_BACKOFF)


async def poll_feed(jobs: JobContext, url: str, *, force: bool = False) -> PollReport:
    """Poll one feed: new matching items enter the queue. Never raises."""
    cfg = jobs.services.config.section(VeilleConfig)
    source = next((s for s in cfg.sources if s.url == url), None)
    if source is None:
        return PollReport(url, "skipped")
    now = jobs.services.now()
    async with jobs.db.unit() as repos:
        state = await repos.feeds.state(url)
        if not force and state.next_poll_at is not None and now < state.next_poll_at:
            return PollReport(url, "skipped")
        etag, last_modified, failures = state.etag, state.last_modified, state.failures or 0
        await repos.commit()
    interval = timedelta(minutes=source.interval_minutes or cfg.interval_minutes)
    try:
        result = await fetch(
            url, etag=etag, last_modified=last_modified, timeout=cfg.timeout_seconds, max_bytes=cfg.max_bytes
        )
        entries = [] if result.status == 304 else await asyncio.to_thread(parse_entries, result.body)
    except (aiohttp.ClientError, TimeoutError, FeedError, ValueError) as exc:
        error = _describe(exc)
        failures += 1
        retry = now + backoff(interval, failures - 1)
        log.warning(
            "veille: %s failed (%s), attempt %d; next try after %s", source.name, error, failures, retry
        )
        async with jobs.db.unit() as repos:
            state = await repos.feeds.state(url)
            state.failures = failures
            state.last_error = error[:500]
            state.last_polled_at = now
            state.next_poll_at = retry
            await repos.commit()
        return PollReport(url, "failed", error=error)
    added = await _store(jobs, source, cfg, entries, now) if entries else 0
    async with jobs.db.unit() as repos:
        state = await repos.feeds.state(url)
        state.etag, state.last_modified = result.etag, result.last_modified
        state.failures, state.last_error, state.next_poll_at = 0, None, None
        state.last_polled_at = state.last_ok_at = now
        await repos.feeds.expire(now - timedelta(days=cfg.queue_days))
        await repos.commit()
    if added:
        log.info("veille: %d new items from %s", added, source.name)
    return PollReport(url, "unchanged" if result.status == 304 else "new", added=added)


async def _store(
    jobs: JobContext, source: FeedSource, cfg: VeilleConfig, entries: list[Entry], now: datetime
) -> int:
    keywords = cfg.keywords if source.keywords is None else source.keywords
    oldest = now - timedelta(days=cfg.max_age_days)
    rows: list[dict[str, Any]] = []
    for entry in entries:
        if entry.published_at is not None and entry.published_at < oldest:
            continue
        matched = matching_keywords(entry, keywords)
        if matched is None:
            continue
        rows.append(
            {
                "feed_url": source.url,
                "feed_name": source.name,
                "guid": guid_key(source.url, entry.guid),
                "title": entry.title[:300],
                "link": entry.link[:2000] if entry.link else None,
                "summary": entry.summary,
                "keywords": matched,
                "published_at": entry.published_at,
            }
        )
    async with jobs.db.unit() as repos:
        known = await repos.feeds.known_guids([r["guid"] for r in rows])
        fresh = [r for r in rows if r["guid"] not in known][: cfg.max_new_per_poll]
        added = await repos.feeds.add_items(fresh)
        await repos.commit()
    return added


def _describe(exc: BaseException) -> str:
    if isinstance(exc, TimeoutError):
        return "timed out"
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


async def run_poll(jobs: JobContext, url: str) -> None:
    await poll_feed(jobs, url)


async def setup(scheduler: Scheduler) -> None:
    cfg = scheduler.jobs.services.config.section(VeilleConfig)
    wanted = {job_id(s.url): s for s in cfg.sources}
    for existing in scheduler.job_ids():
        if existing.startswith("veille.") and existing not in wanted:
            scheduler.remove(existing)
    now = datetime.now(UTC)
    for jid, source in wanted.items():
        minutes = source.interval_minutes or cfg.interval_minutes
        # Spread the first polls over a minute: no burst of requests at start.
        first = now + timedelta(seconds=5 + random.uniform(0, 60))
        scheduler.add(
            jid,
            run_poll,
            IntervalTrigger(minutes=minutes, jitter=30),
            kwargs={"url": source.url},
            next_run_time=first,
        )
