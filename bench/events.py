"""Benchmark: planning event reminders, `!agenda` and `!ressources`, on SQLite and PostgreSQL.

    .venv/bin/python bench/events.py                    # 1 000 events, 10 000 sign-ups, 10 000 resources
    .venv/bin/python bench/events.py --engines sqlite
    flock /work/.bench.lock .venv/bin/python bench/events.py   # as the team runs benchmarks

For each engine a fresh database is made (a temporary SQLite file; a new database on the
PostgreSQL server, `--postgres`, dropped at the end) and filled in bulk:

- 1 000 upcoming events over the next 60 days, with the reminders already handled for
  those whose « J-7 » has passed, and 10 000 sign-ups, most of them on the soonest 50
  events (what `!agenda` shows);
- 10 000 library resources (the kinds mixed; titles, descriptions and tags drawn from the
  digest benchmark's corpus), indexed in the shared search index as `index_many` does.

Then, timed:
- plan: what the reminders job does before posting — read every upcoming event with the
  reminders it already had, and `plan_reminders` — median of repeated runs;
- agenda: the `!agenda` handler (the soonest events, their counts, the member's own
  sign-ups, the rendered message) — median;
- search: the `!ressources` handler (words, typos, prefixes, with and without `type:`
  and `depuis:`) — median and p95.

Targets: planning under 200 ms, `!agenda` under 50 ms, search p95 under 20 ms. The last line
is `RESULT plan_1k_sqlite_ms=… plan_1k_postgres_ms=… agenda_sqlite_ms=… agenda_postgres_ms=…
search_sqlite_p95_ms=… search_postgres_p95_ms=…`."""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bulk import cpu_check, write_bulk
from digest import WORDS, Corpus, _Permissions, _Rooms

from bot import memory
from bot.config import parse_config
from bot.context import Context, Services
from bot.features import load_features
from bot.i18n import default_catalog
from bot.registry import REGISTRY
from bot.roles import Role
from commands.evenements.commands import agenda_reply
from commands.evenements.config import EventsConfig
from commands.evenements.service import PlannedEvent, plan_reminders
from commands.ressources.commands import search as resources_search
from storage.db import Database
from storage.models.evenements import Event, EventReminder, EventRsvp
from storage.models.ressources import Resource
from storage.repositories.ressources import KIND, search_fields
from storage.repositories.search import terms_of
from tests.support.databases import create_database, drop_database

DEFAULT_PG = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
NOW = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)
ROOM = "!reseau:example.org"
MEMBER = "@membre7:example.org"
KINDS = ["captation", "support", "pratique", "outil", "methode", "retour_experience", "formation", "autre"]
QUERIES = [
    "sécheresse",
    "secheresse vigne",
    "canicule école",
    "inondaton",  # typo
    "assur",  # prefix
    "eau potable",
    "énergie solaire",
    "mobilite velo",
    "glacier station",
    "biodiversite",
    "innovation publique",
    "type:captation",
    "tramway type:outil",
    "chaleur urbaine depuis:septembre",
    "sobriété type:retex depuis:il y a 6 mois",
]


def _services() -> Services:
    config = parse_config(
        {
            "matrix": {"homeserver": "http://127.0.0.1:1", "user_id": "@oasis:example.org", "password": "x"},
            "bot": {"rooms": [ROOM]},
            "evenements": {"rappels": ["7j", "1j", "1h"]},
        }
    )
    return Services(
        config=config,
        catalog=default_catalog(),
        registry=REGISTRY,
        rooms=_Rooms(),  # type: ignore[arg-type]
        permissions=_Permissions(),
        bot_user_id="@oasis:example.org",
        clock=lambda: NOW,
    )


def _events(
    n: int, rsvps: int, rng: random.Random
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
    events, reminders, signups = [], [], []
    for i in range(1, n + 1):
        start = NOW + timedelta(minutes=30 + (60 * 24 * 60) * (i - 1) / n)
        events.append(
            {
                "id": i,
                "kind": "webinaire" if i % 3 else "rencontre",
                "title": f"Événement {i} : " + " ".join(rng.sample(WORDS, 4)),
                "starts_at": start,
                "ends_at": start + timedelta(hours=1, minutes=30),
                "link": f"https://visio.example.org/{i}",
                "place": None,
                "description": " ".join(rng.sample(WORDS, 12)),
                "capacity": rng.choice([None, 30, 50, 100]),
                "status": "scheduled",
                "cancel_reason": None,
                "rooms": [ROOM],
                "scheduled_at": NOW - timedelta(days=30),
                "sequence": 0,
                "created_by": "@animatrice:example.org",
                "created_at": NOW - timedelta(days=30),
                "updated_at": NOW - timedelta(days=30),
            }
        )
        if start - timedelta(days=7) <= NOW:
            reminders.append(
                {
                    "event_id": i,
                    "offset_seconds": 7 * 86400,
                    "starts_at": start,
                    "outcome": "sent",
                    "done_at": NOW,
                }
            )
    # Most sign-ups on the soonest 50 events (what !agenda shows), the rest spread out.
    seen: set[tuple[int, int]] = set()
    while len(signups) < rsvps:
        event_id = rng.randint(1, 50) if rng.random() < 0.8 else rng.randint(1, n)
        member = rng.randrange(2000)
        if (event_id, member) in seen:
            continue
        seen.add((event_id, member))
        signups.append(
            {
                "id": len(signups) + 1,
                "event_id": event_id,
                "user_id": f"@membre{member}:example.org",
                "status": "going",
                "reaction_event_id": None,
                "created_at": NOW - timedelta(days=rng.uniform(0, 20)),
            }
        )
    return events, reminders, signups


def _resources(
    n: int, rng: random.Random
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], dict[str, int]]:
    corpus = Corpus(rng)
    rows, postings, counts = [], [], {}
    for i in range(1, n + 1):
        row = {
            "id": i,
            "kind": rng.choice(KINDS),
            "title": corpus.sentence(7).capitalize()[:200],
            "url": f"https://example.org/ressource/{i}",
            "description": corpus.sentence(25),
            "tags": [rng.choice(WORDS), rng.choice(WORDS)],
            "event_id": None,
            "digest_id": None,
            "author_id": f"@membre{rng.randrange(250)}:example.org",
            "author_name": "Membre",
            "room_id": ROOM,
            "featured_week": None,
            "featured_by": None,
            "created_at": NOW - timedelta(days=rng.uniform(0, 900)),
        }
        rows.append(row)
        weights: dict[str, int] = {}
        doc = Resource(**{k: row[k] for k in ("title", "tags", "description", "kind")})
        for text_, weight in search_fields(doc):
            for term in terms_of(text_ or ""):
                weights[term] = max(weights.get(term, 0), weight)
        for term, weight in weights.items():
            postings.append({"kind": KIND, "term": term, "doc_id": i, "weight": weight})
            counts[term] = counts.get(term, 0) + 1
    return rows, postings, counts


def _p95(times: list[float]) -> float:
    ordered = sorted(times)
    return ordered[min(len(ordered) - 1, max(0, round(0.95 * len(ordered)) - 1))]


async def _plan_ms(db: Database, services: Services, repeat: int) -> tuple[float, int]:
    offsets = services.config.section(EventsConfig).offsets
    times, due = [], 0
    for _ in range(repeat):
        async with db.unit() as repos:
            started = time.perf_counter()
            states = await repos.events.reminder_states(NOW)
            plan = plan_reminders(
                NOW, [PlannedEvent(s.id, s.starts_at, s.scheduled_at, s.done) for s in states], offsets
            )
            times.append((time.perf_counter() - started) * 1000)
            due = len(plan.due) + len(plan.skipped)
            assert len(states) >= 1000 or len(states) == len({s.id for s in states})
    return statistics.median(times), due


def _context(services: Services, repos: Any) -> Context:
    return Context(services, repos, MEMBER, ROOM, None, False, "fr", Role.MEMBER)


async def _agenda_ms(db: Database, services: Services, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        async with db.unit() as repos:
            started = time.perf_counter()
            reply = await agenda_reply(_context(services, repos))
            text = reply.render(services.translator("fr")).plain
            times.append((time.perf_counter() - started) * 1000)
            assert "À venir" in text
    return statistics.median(times)


async def _search_ms(db: Database, services: Services, n: int) -> tuple[float, float, float]:
    memory.settle()
    rng = random.Random(7)
    times, shown = [], 0
    async with db.unit() as repos:
        for q in QUERIES:  # warm-up
            await resources_search(_context(services, repos), q)
    for i in range(n):
        q = QUERIES[i % len(QUERIES)] if i < len(QUERIES) else rng.choice(QUERIES)
        async with db.unit() as repos:
            started = time.perf_counter()
            reply = await resources_search(_context(services, repos), q)
            text = reply.render(services.translator("fr")).plain
            times.append((time.perf_counter() - started) * 1000)
            shown += text.count("\n•") + text.startswith("•")
    return statistics.median(times), _p95(times), shown / n


async def _run_engine(name: str, url: str, args: argparse.Namespace) -> dict[str, float]:
    db = Database(url)
    await db.migrate()
    rng = random.Random(42)
    print(f"[{name}] filling {args.events} events, {args.rsvps} sign-ups, {args.resources} resources…")
    started = time.perf_counter()
    events, reminders, signups = _events(args.events, args.rsvps, rng)
    await write_bulk(
        db,
        Event,
        events,
        kind="evenement",
        postings=[],
        counts={},
        extra=[(EventReminder.__table__, reminders), (EventRsvp.__table__, signups)],  # type: ignore[list-item]
    )
    rows, postings, counts = _resources(args.resources, rng)
    await write_bulk(db, Resource, rows, kind=KIND, postings=postings, counts=counts)
    print(f"[{name}] stored in {time.perf_counter() - started:.1f} s")
    services = _services()
    plan_ms, due = await _plan_ms(db, services, args.repeat)
    print(f"[{name}] plan reminders of {args.events} events: {plan_ms:.1f} ms median ({due} due now)")
    agenda_ms = await _agenda_ms(db, services, args.repeat)
    print(f"[{name}] !agenda with {args.rsvps} sign-ups: {agenda_ms:.1f} ms median")
    print(f"[{name}] {cpu_check()}")
    median, p95, shown = await _search_ms(db, services, args.queries)
    print(
        f"[{name}] !ressources over {args.resources} resources: median {median:.2f} ms, p95 {p95:.2f} ms "
        f"({args.queries} queries, {shown:.1f} results shown on average)"
    )
    await db.dispose()
    return {"plan": plan_ms, "agenda": agenda_ms, "p95": p95}


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=1000)
    parser.add_argument("--rsvps", type=int, default=10_000)
    parser.add_argument("--resources", type=int, default=10_000)
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--engines", default="sqlite,postgres")
    parser.add_argument("--postgres", default=DEFAULT_PG, help="PostgreSQL server (a database is created)")
    args = parser.parse_args()
    load_features()
    print(f"{datetime.now().isoformat(timespec='minutes')}, {cpu_check()}")
    results: dict[str, dict[str, float]] = {}
    engines = [e.strip() for e in args.engines.split(",") if e.strip()]
    if "sqlite" in engines:
        with tempfile.TemporaryDirectory() as tmp:
            results["sqlite"] = await _run_engine("sqlite", f"sqlite+aiosqlite:///{tmp}/bench.db", args)
    if "postgres" in engines:
        url = await create_database(args.postgres, "oasis_bench")
        try:
            results["postgres"] = await _run_engine("postgres", url, args)
        finally:
            await drop_database(args.postgres, url)

    def fig(engine: str, key: str) -> str:
        return f"{results[engine][key]:.1f}" if engine in results else "nan"

    print(
        f"RESULT plan_1k_sqlite_ms={fig('sqlite', 'plan')} plan_1k_postgres_ms={fig('postgres', 'plan')} "
        f"agenda_sqlite_ms={fig('sqlite', 'agenda')} agenda_postgres_ms={fig('postgres', 'agenda')} "
        f"search_sqlite_p95_ms={fig('sqlite', 'p95')} search_postgres_p95_ms={fig('postgres', 'p95')}"
    )


if __name__ == "__main__":
    asyncio.run(main())
