"""The veille against a local HTTP server serving fixture feeds (a good RSS, an Atom, a
broken one, a slow one, a huge one, a failing one): conditional GET, filters, queue,
failures retried later without stopping the other feeds. No test touches the internet."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from sqlalchemy import text

from bot.errors import UserError
from bot.roles import Role
from bot.scheduler import JobContext
from commands import signals as sg
from commands.veille import commands as fd
from commands.veille import jobs as poller
from commands.veille.config import VeilleConfig
from commands.veille.fetch import FeedError
from commands.veille.parsing import Entry, matching_keywords, parse_entries
from storage.db import Database
from tests.support.fakes import make_context, make_services, render, test_config

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "feeds"
NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)


class FeedServer:
    def __init__(self) -> None:
        self.hits: dict[str, int] = {}
        self.conditional: list[str] = []
        self.url = ""
        self.runner: web.AppRunner | None = None

    def _count(self, request: web.Request) -> None:
        self.hits[request.path] = self.hits.get(request.path, 0) + 1

    async def rss(self, request: web.Request) -> web.StreamResponse:
        self._count(request)
        if request.headers.get("If-None-Match") == '"v1"':
            self.conditional.append(request.headers.get("If-Modified-Since", ""))
            return web.Response(status=304)
        return web.Response(
            body=(FIXTURES / "rss.xml").read_bytes(),
            content_type="application/rss+xml",
            headers={"ETag": '"v1"', "Last-Modified": "Tue, 24 Nov 2026 09:00:00 GMT"},
        )

    async def static(self, request: web.Request) -> web.StreamResponse:
        self._count(request)
        name = request.match_info["name"]
        return web.Response(body=(FIXTURES / name).read_bytes(), content_type="application/xml")

    async def slow(self, request: web.Request) -> web.StreamResponse:
        self._count(request)
        await asyncio.sleep(3)
        return web.Response(body=(FIXTURES / "rss.xml").read_bytes())

    async def huge(self, request: web.Request) -> web.StreamResponse:
        self._count(request)
        response = web.StreamResponse()  # no Content-Length: the cap applies while reading
        await response.prepare(request)
        for _ in range(40):
            await response.write(b"<!-- " + b"x" * 4096 + b" -->")
        return response

    async def error(self, request: web.Request) -> web.StreamResponse:
        self._count(request)
        return web.Response(status=500, text="boom")

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/rss.xml", self.rss)
        app.router.add_get("/slow.xml", self.slow)
        app.router.add_get("/huge.xml", self.huge)
        app.router.add_get("/error.xml", self.error)
        app.router.add_get("/f/{name}", self.static)
        self.runner = web.AppRunner(app)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}"

    async def stop(self) -> None:
        if self.runner:
            await self.runner.cleanup()


@pytest.fixture(autouse=True)
async def _ids_from_one(db: Database) -> None:
    """Queue numbers are part of what animators read: start them at 1 on both engines."""
    if not db.is_sqlite:
        async with db.engine.begin() as conn:
            for table in ("signals", "feed_items"):
                await conn.execute(text(f"ALTER SEQUENCE {table}_id_seq RESTART WITH 1"))


@pytest.fixture
async def server() -> AsyncIterator[FeedServer]:
    s = FeedServer()
    await s.start()
    yield s
    await s.stop()


def jobs_for(db: Database, server: FeedServer, clock: datetime = NOW, **veille: Any) -> JobContext:
    sources = [
        {"name": "Actu", "url": f"{server.url}/rss.xml"},
        {"name": "Rapports", "url": f"{server.url}/f/atom.xml"},
        {"name": "Cassé", "url": f"{server.url}/f/broken.xml"},
        {"name": "Lent", "url": f"{server.url}/slow.xml"},
        {"name": "Énorme", "url": f"{server.url}/huge.xml"},
        {"name": "En panne", "url": f"{server.url}/error.xml"},
    ]
    config = test_config(veille={"sources": sources, "timeout_seconds": 1, "max_bytes": 50_000, **veille})
    return JobContext(make_services(config, clock=lambda: clock), db, lambda: None)


def test_parse_rss_and_atom() -> None:
    rss = parse_entries((FIXTURES / "rss.xml").read_bytes())
    assert len(rss) == 4 and rss[0].title == "Sécheresse : les nappes de l'Aude au plus bas"
    assert rss[0].summary == "Le niveau des nappes phréatiques inquiète les élus."  # HTML stripped
    assert rss[0].published_at == datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    assert rss[2].guid == "item-3"
    atom = parse_entries((FIXTURES / "atom.xml").read_bytes())
    assert atom[0].link == "https://rapports.exemple.org/plan-adaptation"
    with pytest.raises(FeedError):
        parse_entries((FIXTURES / "broken.xml").read_bytes())


def test_keywords_match_word_starts_without_accents() -> None:
    entry = Entry("g", "Les assureurs et les INONDATIONS", None, "secheresses", None)
    assert matching_keywords(entry, ["inondation", "sécheresse", "canicule"]) == [
        "inondation",
        "sécheresse",
    ]
    assert matching_keywords(entry, ["climat"]) is None
    assert matching_keywords(entry, []) == []  # no filter: everything
    assert matching_keywords(Entry("g", "Reinondation", None, "", None), ["inondation"]) is None


async def test_good_feeds_fill_the_queue_and_broken_ones_are_retried_later(
    db: Database, server: FeedServer, caplog: pytest.LogCaptureFixture
) -> None:
    jobs = jobs_for(db, server)
    urls = [s.url for s in jobs.services.config.section(VeilleConfig).sources]
    started = asyncio.get_running_loop().time()
    reports = await asyncio.gather(*(poller.poll_feed(jobs, u) for u in urls))
    elapsed = asyncio.get_running_loop().time() - started
    assert elapsed < 2.9  # the slow feed was cut at its 1 s time-out, the others did not wait
    by_name = dict(zip(["actu", "atom", "broken", "slow", "huge", "error"], reports, strict=True))
    assert (by_name["actu"].status, by_name["actu"].added) == ("new", 2)  # stade: off topic; 2019: too old
    assert (by_name["atom"].status, by_name["atom"].added) == ("new", 1)
    assert by_name["broken"].status == "failed" and "not a feed" in (by_name["broken"].error or "")
    assert by_name["slow"].status == "failed" and by_name["slow"].error == "timed out"
    assert by_name["huge"].status == "failed" and "too large" in (by_name["huge"].error or "")
    assert by_name["error"].status == "failed" and by_name["error"].error == "FeedError: HTTP 500"
    assert "veille: Cassé failed" in caplog.text
    async with db.unit() as repos:
        items, total = await repos.feeds.queue()
        assert total == 3
        assert {i.title for i in items} == {
            "Sécheresse : les nappes de l'Aude au plus bas",
            "Les assureurs et les INONDATIONS",
            "Adaptation au changement climatique : le plan régional",
        }
        broken = await repos.feeds.state(f"{server.url}/f/broken.xml")
        assert broken.failures == 1 and broken.next_poll_at == NOW + timedelta(hours=1)
    # Retried later, not before: a poll before the delay does not touch the server.
    hits = server.hits.get("/f/broken.xml", 0)
    assert (await poller.poll_feed(jobs, f"{server.url}/f/broken.xml")).status == "skipped"
    assert server.hits.get("/f/broken.xml", 0) == hits
    later = jobs_for(db, server, NOW + timedelta(hours=1, minutes=1))
    assert (await poller.poll_feed(later, f"{server.url}/f/broken.xml")).status == "failed"
    async with db.unit() as repos:
        broken = await repos.feeds.state(f"{server.url}/f/broken.xml")
        # Twice the interval after a second failure.
        assert broken.failures == 2 and broken.next_poll_at == NOW + timedelta(hours=3, minutes=1)


async def test_conditional_get_and_no_duplicates(db: Database, server: FeedServer) -> None:
    jobs = jobs_for(db, server)
    url = f"{server.url}/rss.xml"
    assert (await poller.poll_feed(jobs, url)).added == 2
    second = await poller.poll_feed(jobs, url)
    assert second.status == "unchanged" and second.added == 0
    assert server.conditional == ["Tue, 24 Nov 2026 09:00:00 GMT"]  # both validators sent
    # The feed forgets its validators (a new server): same items, none queued twice.
    async with db.unit() as repos:
        state = await repos.feeds.state(url)
        state.etag = state.last_modified = None
        await repos.commit()
    assert (await poller.poll_feed(jobs, url)).added == 0
    async with db.unit() as repos:
        assert (await repos.feeds.queue())[1] == 2


async def test_per_feed_keywords_and_cap(db: Database, server: FeedServer) -> None:
    config = test_config(
        veille={
            "sources": [{"name": "Tout", "url": f"{server.url}/rss.xml", "keywords": []}],
            "max_new_per_poll": 2,
            "max_age_days": 365,
        }
    )
    jobs = JobContext(make_services(config, clock=lambda: NOW), db, lambda: None)
    assert (await poller.poll_feed(jobs, f"{server.url}/rss.xml")).added == 2


async def test_curation_commands(db: Database, server: FeedServer) -> None:
    jobs = jobs_for(db, server)
    await poller.poll_feed(jobs, f"{server.url}/rss.xml")
    services = jobs.services
    async with db.unit() as repos:
        anim = await make_context(repos, sender="@carol:example.org", role=Role.ANIMATOR, services=services)
        listing = render(anim, await fd.queue(anim))
        assert "Veille : 2 articles à trier" in listing.replace("\u00a0", " ")
        assert (
            "n°2 Les assureurs et les INONDATIONS (https://exemple.fr/assureurs) — Actu · 24 novembre"
            in listing
        )
        kept = render(anim, await fd.keep(anim, "2"))
        assert kept.startswith("✅ Signal #") and "Les assureurs et les INONDATIONS" in kept
        await repos.commit()
    async with db.unit() as repos:
        signal = (await repos.signals.find(sg.SignalFilter(text="assureurs"))).signals[0]
        assert (signal.status, signal.url, signal.origin, signal.author_id) == (
            "retained",
            "https://exemple.fr/assureurs",
            "veille:Actu",
            "@carol:example.org",
        )
        assert signal.observation == "Deux assureurs quittent le littoral."
        anim = await make_context(repos, sender="@carol:example.org", role=Role.ANIMATOR, services=services)
        with pytest.raises(UserError) as info:
            await fd.keep(anim, "2")
        assert info.value.key == "veille.errors.already_retained"
        out = render(anim, await fd.ignore(anim, "1"))
        assert "retiré de la file" in out and "Reste à trier" in out
        with pytest.raises(UserError):
            await fd.ignore(anim, "99")
        sources = render(anim, await fd.sources(anim)).replace("\u00a0", " ")
        assert "6 flux suivis" in sources and "Actu (" in sources and "pas encore consulté" in sources
        await repos.commit()


async def test_keep_a_link_already_shared_drops_the_item(db: Database, server: FeedServer) -> None:
    jobs = jobs_for(db, server)
    await poller.poll_feed(jobs, f"{server.url}/rss.xml")
    async with db.unit() as repos:
        member = await make_context(repos, sender="@alice:example.org", services=jobs.services)
        await sg.submit(member, "Assureurs | https://exemple.fr/assureurs | vu")
        anim = await make_context(
            repos, sender="@carol:example.org", role=Role.ANIMATOR, services=jobs.services
        )
        out = render(anim, await fd.keep(anim, "2"))
        assert "déjà enregistré" in out and "retiré de la file" in out
        assert (await repos.feeds.get(2)).status == "ignored"  # type: ignore[union-attr]


async def test_jobs_are_one_per_feed(db: Database, server: FeedServer) -> None:
    class FakeScheduler:
        def __init__(self, jobs: JobContext) -> None:
            self.jobs = jobs
            self.tz = jobs.services.tz
            self.added: dict[str, Any] = {}

        def job_ids(self) -> list[str]:
            return ["veille.gone"]

        def remove(self, job_id: str) -> None:
            self.added.pop(job_id, None)
            self.removed = job_id

        def add(self, job_id: str, fn: Any, trigger: Any, **kw: Any) -> None:
            self.added[job_id] = (fn, trigger, kw)

    fake = FakeScheduler(jobs_for(db, server))
    await poller.setup(fake)  # type: ignore[arg-type]
    assert len(fake.added) == 6 and fake.removed == "veille.gone"
    fn, trigger, kw = fake.added[poller.job_id(f"{server.url}/rss.xml")]
    assert fn is poller.run_poll and trigger.interval == timedelta(minutes=60)
    assert kw["kwargs"] == {"url": f"{server.url}/rss.xml"}


def test_feedparser_is_loaded_on_first_use_not_at_start() -> None:
    """A bot with no feed never pays for feedparser (its import is the slowest of the
    features')."""
    check = (
        "import sys; from bot.features import load_features; load_features(); "
        "print('feedparser' in sys.modules)"
    )
    root = Path(__file__).resolve().parents[2]
    out = subprocess.run([sys.executable, "-c", check], capture_output=True, text=True, check=True, cwd=root)
    assert out.stdout.strip() == "False"
    parse_entries((FIXTURES / "rss.xml").read_bytes())
    assert "feedparser" in sys.modules
