"""Benchmark: building the weekly digest and searching the signals, on SQLite and PostgreSQL.

    .venv/bin/python bench/digest.py                 # 10 000 signals in the week, 100 000 in all
    .venv/bin/python bench/digest.py --scale 0.1     # ten times smaller
    .venv/bin/python bench/digest.py --engines sqlite

For each engine a fresh database is made (a temporary SQLite file; a new database on the
PostgreSQL server, `--postgres`, dropped at the end), filled with signals (their texts
indexed in the shared search index, as `!signal` does), then:

- digest: what `!digest publier` and the weekly job do before queuing — select and rank the
  week's signals (10 000 of them) and render the message — median of repeated builds;
- search: `!signaux` queries (single words, two words, prefixes, typos, with and without a
  filter) over all signals — median and p95.

Targets: digest under 100 ms, search p95 under 20 ms. The last line is
`RESULT digest_sqlite_ms=… digest_postgres_ms=… search_sqlite_p95_ms=… search_postgres_p95_ms=…`."""

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
from sqlalchemy import select

from bot import memory
from bot.config import parse_config
from bot.context import Context, Services
from bot.features import load_features
from bot.i18n import default_catalog
from bot.registry import REGISTRY
from bot.roles import Role
from commands import digest as dg
from commands.signal_parsing import CATEGORIES, NATURES
from storage.db import Database
from storage.models.search import SearchTerm
from storage.models.signals import Signal
from storage.repositories.search import terms_of
from storage.repositories.signals import KIND, SignalFilter, search_fields
from tests.support.databases import create_database, drop_database

DEFAULT_PG = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
END = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)  # a Monday, 09:00 in Paris

WORDS = (  # noqa: SIM905 (a list literal would take 110 lines)
    "sécheresse canicule inondation submersion littoral érosion nappe phréatique irrigation vigne "
    "agriculture forêt incendie biodiversité pollinisateurs îlots fraîcheur ombrage école santé "
    "assurance assureurs retrait relocalisation commune métropole département région mobilité vélo "
    "tramway covoiturage énergie solaire photovoltaïque éolien sobriété rénovation logement précarité "
    "eau potable restriction arrêté préfectoral tourisme neige station montagne glacier pastoralisme "
    "élevage alimentation circuit court cantine budget dette emprunt vert obligation marché foncier "
    "artificialisation sols zéro nette friche renaturation désimperméabilisation pluie orage grêle "
    "migration climatique déplacés habitants quartier chaleur urbaine nuit tropicale mortalité "
    "hôpital urgences personnes âgées télétravail horaires décalés chantier BTP ouvriers protection "
    "juridique contentieux responsabilité maire tribunal réglementation PLU permis construire "
    "innovation publique laboratoire expérimentation citoyenne participation convention jeunes"
).split()
TERRITORIES = [
    "Ariège (09)",
    "Aude (11)",
    "Gard (30)",
    "Haute-Garonne (31)",
    "Hérault (34)",
    "Lot (46)",
    "Région",
]
QUERIES = [
    "sécheresse",
    "secheresse vigne",
    "canicule école",
    "inondaton",  # typo
    "assur",  # prefix
    "eau potable",
    "îlots fraîcheur",
    "énergie solaire",
    "mobilite velo",
    "vigne grêle",
    "tramway",
    "glacier station",
    "artificialisation",
    "chaleur urbaine",
    "tribunal maire",
    "biodiversite",
    "innovation publique",
]
FILTERS = [
    {},
    {"category": "environnemental"},
    {"territory": "Hérault (34)"},
    {"nature": "rupture"},
]


class _Rooms:
    def display_name(self, room_id: str, user_id: str) -> str:
        return user_id.split(":")[0].lstrip("@")

    def is_direct(self, room_id: str) -> bool:
        return False

    def joined_members(self, room_id: str) -> list[str]:
        return []

    def joined_rooms(self) -> list[str]:
        return []

    def room_name(self, room_id: str) -> str:
        return room_id

    def space_children(self, room_id: str) -> list[str] | None:
        return None


class _Permissions:
    async def role_of(self, user_id: str, room_id: str, is_direct: bool) -> Role:
        return Role.ADMIN


def _services(max_items: int) -> Services:
    config = parse_config(
        {
            "matrix": {"homeserver": "http://127.0.0.1:1", "user_id": "@oasis:example.org", "password": "x"},
            "bot": {"rooms": ["!digest:example.org"]},
            "digest": {"rooms": ["!digest:example.org"], "max_items": max_items},
        }
    )
    return Services(
        config=config,
        catalog=default_catalog(),
        registry=REGISTRY,
        rooms=_Rooms(),
        permissions=_Permissions(),
        bot_user_id="@oasis:example.org",
        clock=lambda: END,
    )


SYLLABLES = [c + v for c in "bcdfglmnprstv" for v in "aeiou"]


def _vocabulary(rng: random.Random, size: int) -> list[str]:
    """Filler words (places, names, everyday words of reports), each a few syllables."""
    words: dict[str, None] = {}
    while len(words) < size:
        words["".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 4)))] = None
    return list(words)


class Corpus:
    """Generated text. « realistic »: one vocabulary of 20 000 words following Zipf's law,
    the climate words the queries use spread over ranks 20 to 3 000 (so « sécheresse » is
    in a few percent of the signals, as in a real archive). « dense »: 40 % of all words
    from the climate list alone, so every query word is in nearly every signal — the
    worst case for an inverted index (each query hits the read bound)."""

    def __init__(self, rng: random.Random, kind: str = "realistic") -> None:
        self.rng = rng
        self.kind = kind
        self.domain = list(WORDS)
        self.filler = _vocabulary(rng, 20_000)
        if kind == "dense":
            self.domain_cum = _zipf_cumulative(len(self.domain))
            self.filler_cum = _zipf_cumulative(len(self.filler))
        else:
            ranks = sorted(rng.sample(range(20, 3000), len(self.domain)))
            merged = list(self.filler)
            for rank, word in zip(ranks, rng.sample(self.domain, len(self.domain)), strict=True):
                merged.insert(rank, word)
            self.merged = merged
            self.merged_cum = _zipf_cumulative(len(merged))

    def sentence(self, n: int) -> str:
        if self.kind != "dense":
            return " ".join(self.rng.choices(self.merged, cum_weights=self.merged_cum, k=n))
        k = sum(1 for _ in range(n) if self.rng.random() < 0.4)
        words = self.rng.choices(self.domain, cum_weights=self.domain_cum, k=k)
        words += self.rng.choices(self.filler, cum_weights=self.filler_cum, k=n - k)
        self.rng.shuffle(words)
        return " ".join(words)


def _zipf_cumulative(n: int) -> list[float]:
    total, out = 0.0, []
    for rank in range(1, n + 1):
        total += 1.0 / rank
        out.append(total)
    return out


def _rows(total: int, in_week: int, rng: random.Random, kind: str) -> tuple[list[dict[str, Any]], Corpus]:
    corpus = Corpus(rng, kind)
    rows = []
    for i in range(1, total + 1):
        recent = i > total - in_week
        age = (
            timedelta(seconds=rng.uniform(0, 7 * 86400 - 1))
            if recent
            else timedelta(days=rng.uniform(8, 720))
        )
        rows.append(
            {
                "id": i,
                "theme": "changement climatique",
                "title": corpus.sentence(8).capitalize()[:200],
                "url": f"https://exemple.fr/article/{i}",
                "url_key": f"exemple.fr/article/{i}",
                "observation": corpus.sentence(30),
                "why": corpus.sentence(12),
                "category": rng.choice(CATEGORIES),
                "nature": rng.choice(NATURES),
                "horizon": None,
                "territory": rng.choice(TERRITORIES),
                "source_kind": None,
                "tags": [rng.choice(WORDS), rng.choice(WORDS)],
                "related": [],
                "observed_on": None,
                "status": "proposed" if recent else rng.choice(["proposed", "published", "retained"]),
                "status_reason": None,
                "status_by": None,
                "digest_id": None,
                "author_id": f"@membre{rng.randrange(250)}:example.org",
                "author_name": f"Membre {rng.randrange(250)}",
                "origin": "member",
                "room_id": "!room:example.org",
                "support_count": int(rng.expovariate(0.5)),
                "created_at": END - age,
                "updated_at": END - age,
            }
        )
    return rows, corpus


async def _fill(db: Database, total: int, in_week: int, kind: str) -> float:
    """Store the signals, and write the index rows `index_many` would write (same terms,
    weights, vocabulary counts and typo variants, from the same functions), in bulk:
    the benchmark measures reading, and per-signal indexing of 100 000 signals would take
    most of an hour here. A check at the end compares with `index_many` on a sample."""
    rng = random.Random(42)
    rows, _ = _rows(total, in_week, rng, kind)
    started = time.perf_counter()
    postings: list[dict[str, Any]] = []
    counts: dict[str, int] = {}
    for r in rows:
        weights: dict[str, int] = {}
        doc = Signal(**{k: r[k] for k in ("title", "tags", "observation", "why", "territory")})
        for text_, weight in search_fields(doc):
            for term in terms_of(text_ or ""):
                weights[term] = max(weights.get(term, 0), weight)
        for term, weight in weights.items():
            postings.append({"kind": KIND, "term": term, "doc_id": r["id"], "weight": weight})
            counts[term] = counts.get(term, 0) + 1
    await write_bulk(db, Signal, rows, kind=KIND, postings=postings, counts=counts)
    elapsed = time.perf_counter() - started
    await _check_index(db, rows[:50])
    return elapsed


async def _check_index(db: Database, sample: list[dict[str, Any]]) -> None:
    """The bulk rows equal what `index_many` writes: reindex a sample, compare."""

    async def postings_of(ids: list[int]) -> set[tuple[Any, ...]]:
        async with db.unit() as repos:
            result = await repos.session.execute(
                select(SearchTerm.doc_id, SearchTerm.term, SearchTerm.weight).where(
                    SearchTerm.kind == KIND, SearchTerm.doc_id.in_(ids)
                )
            )
            return {tuple(row) for row in result}

    ids = [r["id"] for r in sample]
    before = await postings_of(ids)
    async with db.unit() as repos:
        signals = await repos.signals.many(ids)
        await repos.search.index_many(KIND, {i: search_fields(s) for i, s in signals.items()})
        await repos.commit()
    assert await postings_of(ids) == before, "bulk index differs from index_many"


async def _digest_ms(db: Database, services: Services, repeat: int) -> tuple[float, int, int]:
    times = []
    shown = total = 0
    for _ in range(repeat):
        async with db.unit() as repos:
            ctx = Context(services, repos, services.bot_user_id, "", None, False, "fr", Role.ADMIN)
            started = time.perf_counter()
            plan = await dg.plan(ctx, END)
            rich = dg.render(services.translator("fr"), ctx, plan, week="2026-W49")
            times.append((time.perf_counter() - started) * 1000)
            shown, total = len(plan.items), plan.total
            assert rich.plain and rich.html
    return statistics.median(times), shown, total


def _p95(times: list[float]) -> float:
    ordered = sorted(times)
    return ordered[min(len(ordered) - 1, max(0, round(0.95 * len(ordered)) - 1))] if ordered else float("nan")


async def _search_ms(db: Database, services: Services, n: int) -> tuple[float, float, float, float, float]:
    memory.settle()  # as the bot does once started (bot/memory.py)
    rng = random.Random(7)
    cases = [(q, f) for q in QUERIES for f in FILTERS]
    times: list[float] = []
    plain: list[float] = []
    filtered: list[float] = []
    hits = 0
    async with db.unit() as repos:
        for q, f in cases[:10]:  # warm-up
            await repos.signals.find(SignalFilter(text=q, **f))
    for i in range(n):
        q, f = cases[i % len(cases)] if i < len(cases) else rng.choice(cases)
        async with db.unit() as repos:
            started = time.perf_counter()
            page = await repos.signals.find(SignalFilter(text=q, **f), limit=10)
            elapsed = (time.perf_counter() - started) * 1000
            times.append(elapsed)
            (filtered if f else plain).append(elapsed)
            hits += len(page.signals)
    times.sort()
    return statistics.median(times), _p95(times), hits / n, _p95(plain), _p95(filtered)


async def _run_engine(name: str, url: str, args: argparse.Namespace) -> dict[str, float]:
    db = Database(url)
    await db.migrate()
    total = max(int(args.total * args.scale), 10)
    in_week = max(int(args.week * args.scale), 1)
    print(f"[{name}] filling {total} signals ({in_week} in the week), {args.corpus} corpus…")
    fill = await _fill(db, total, in_week, args.corpus)
    print(f"[{name}] stored and indexed in {fill:.1f} s")
    services = _services(args.max_items)
    digest_ms, shown, period = await _digest_ms(db, services, args.repeat)
    print(f"[{name}] digest: {digest_ms:.1f} ms median ({shown} shown of {period} signals in the week)")
    print(f"[{name}] {cpu_check()}")
    median, p95, mean_hits, p95_words, p95_filtered = await _search_ms(db, services, args.queries)
    print(
        f"[{name}] search over {total} signals: median {median:.2f} ms, p95 {p95:.2f} ms "
        f"({args.queries} queries, {mean_hits:.1f} hits shown on average; p95 words only "
        f"{p95_words:.2f} ms, with a filter {p95_filtered:.2f} ms)"
    )
    # The same queries again: a database just bulk-loaded is still settling (pages read
    # for the first time), a running bot's is not. Printed, not in RESULT.
    again = await _search_ms(db, services, args.queries)
    print(f"[{name}] the same queries again: median {again[0]:.2f} ms, p95 {again[1]:.2f} ms")
    await db.dispose()
    return {"digest": digest_ms, "median": median, "p95": p95}


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--week", type=int, default=10_000, help="signals in the digest's week")
    parser.add_argument("--total", type=int, default=100_000, help="signals in all (searched)")
    parser.add_argument(
        "--scale", type=float, default=1.0, help="multiply both sizes (0.1: ten times smaller)"
    )
    parser.add_argument("--queries", type=int, default=300, help="search queries timed")
    parser.add_argument("--repeat", type=int, default=20, help="digest builds timed")
    parser.add_argument("--max-items", type=int, default=8)
    parser.add_argument("--engines", default="sqlite,postgres")
    parser.add_argument(
        "--corpus", choices=["realistic", "dense"], default="realistic", help="how frequent query words are"
    )
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
        f"RESULT digest_sqlite_ms={fig('sqlite', 'digest')} digest_postgres_ms={fig('postgres', 'digest')} "
        f"search_sqlite_p95_ms={fig('sqlite', 'p95')} search_postgres_p95_ms={fig('postgres', 'p95')}"
    )


if __name__ == "__main__":
    asyncio.run(main())
