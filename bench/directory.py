"""Benchmark: directory search (`!annuaire`) and the contact-book import, on SQLite and
PostgreSQL.

    .venv/bin/python bench/directory.py                     # 100 000 profiles, 10 000 imported
    .venv/bin/python bench/directory.py --profiles 20000 --engines sqlite
    .venv/bin/python bench/directory.py --postgres postgresql://user@host/db

For each engine a fresh database is made (a temporary SQLite file; a new database on the
PostgreSQL server, dropped at the end; the engine is skipped with a note if the server does
not answer), then:

- search: 100 000 synthetic profiles (French names, structures of the configured kinds,
  1–2 territories, 2–6 topics drawn from a vocabulary of public-innovation topics with a
  Zipf distribution, a few sentences of presentation; 85 % listed), their search postings
  and facets written in bulk exactly as `ProfileRepository.save` writes them (checked on a
  sample). Then `ProfileRepository.search` — what `!annuaire` runs — over a mix of queries:
  common and rare single words, prefixes, typos, two words, with and without filters;
  median and p95;
- import: a generated CSV of 10 000 contacts through the real import code
  (`commands.annuaire.contacts.import_contacts`: parsing, validation, one transaction).

Target: search p95 under 20 ms. The last line is
`RESULT sqlite_p95_ms=… postgres_p95_ms=… import_10k_s=…` (the import time is the slower
engine's)."""

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
from sqlalchemy import select, text

from bot import memory
from bot.features import load_features
from commands.annuaire.contacts import import_contacts
from commands.annuaire.export import to_csv
from commands.annuaire.fields import DirectoryConfig
from commands.directory_vocab import DEFAULT_KINDS, DEFAULT_TERRITORIES
from storage.db import Database
from storage.models.directory import Profile, ProfileFacet
from storage.models.search import SearchTerm
from storage.repositories.profiles import KIND, DirectoryQuery, facets_of, is_listed, search_fields
from storage.repositories.search import terms_of
from tests.support.databases import create_database, drop_database

DEFAULT_PG = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
NOW = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)

FIRST = (  # noqa: SIM905
    "Camille Dominique Claude Marie Jean Pierre Sophie Nathalie Isabelle Sylvie Catherine Anne "
    "Nicolas Julien Thomas Laurent Stéphane Céline Julie Aurélie Émilie Mathieu Guillaume Hélène "
    "Élodie Benoît François Françoise Thierry Valérie Sandrine Christophe Frédéric Jérôme Agnès "
    "Cécile Léa Manon Chloé Inès Lucas Hugo Louis Gabriel Raphaël Zoé Anaïs Noémie Gaëlle Loïc "
    "Maëlle Yannick Pascale Régis Solène Margaux Bastien Quentin Romain Clément Océane Mélanie"
).split()
LAST = (  # noqa: SIM905
    "Martin Bernard Thomas Petit Robert Richard Durand Dubois Moreau Laurent Simon Michel Lefèvre "
    "Leroy Roux David Bertrand Morel Fournier Girard Bonnet Dupont Lambert Fontaine Rousseau Vincent "
    "Muller Lefebvre Faure André Mercier Blanc Guérin Boyer Garnier Chevalier François Legrand "
    "Gauthier Garcia Perrin Robin Clément Morin Nicolas Henry Roussel Mathieu Gautier Masson "
    "Marchand Duval Denis Dumont Marie Lemaire Noël Meyer Dufour Meunier Brun Blanchard Giraud "
    "Joly Rivière Lucas Brunet Gaillard Barbier Arnaud Martinez Gérard Roche Renard Schmitt Roy "
    "Leroux Colin Vidal Caron Picard Roger Fabre Aubert Lemoine Renaud Dumas Lacroix Olivier "
    "Philippe Bourgeois Pierre Benoît Rey Leclerc Payet Rolland Lecomte Carré Cazals Séguy Fabié "
    "Bousquet Couderc Vergnes Rouquette Puech Lafon Marty Azéma Teulié Delpech Castan Bonnafous"
).split()
CITIES = (  # noqa: SIM905
    "Toulouse Montpellier Nîmes Perpignan Béziers Montauban Narbonne Albi Carcassonne Sète Rodez "
    "Tarbes Castres Agde Millau Auch Cahors Foix Mende Lunel Colomiers Blagnac Muret Alès Lourdes "
    "Figeac Pamiers Lodève Gaillac Villefranche-de-Rouergue Saint-Gaudens Limoux Condom Céret"
).split()
ROLES = [
    "Chargée de mission innovation",
    "Chef de projet transformation publique",
    "Directrice de l'innovation",
    "Designer de services publics",
    "Responsable du laboratoire d'innovation",
    "Chargé d'évaluation des politiques publiques",
    "Data scientist",
    "Chargée de prospective",
    "Conseiller numérique",
    "Directeur général adjoint",
    "Responsable qualité de service",
    "Animatrice de réseau",
    "Chargé de mission transition écologique",
    "Coordinatrice de tiers-lieu",
    "Chef de service modernisation",
    "Agente de développement territorial",
]
# Public-innovation topics, most common first (drawn with Zipf's law).
TOPICS = [
    "innovation publique",
    "design de services",
    "prospective",
    "évaluation",
    "participation citoyenne",
    "numérique responsable",
    "transition écologique",
    "intelligence artificielle",
    "données",
    "simplification administrative",
    "expérience usager",
    "management",
    "intelligence collective",
    "facilitation",
    "achats publics innovants",
    "changement climatique",
    "sobriété",
    "inclusion numérique",
    "accueil des usagers",
    "laboratoire d'innovation",
    "open data",
    "sciences comportementales",
    "agilité",
    "coopération territoriale",
    "démocratie locale",
    "tiers-lieux",
    "ruralité",
    "mobilité",
    "alimentation",
    "santé publique",
    "jeunesse",
    "logement",
    "énergie",
    "biodiversité",
    "eau",
    "adaptation",
    "résilience territoriale",
    "économie sociale solidaire",
    "commande publique",
    "ressources humaines",
    "qualité de vie au travail",
    "formation",
    "cartographie",
    "budget participatif",
    "ingénierie territoriale",
    "politique de la ville",
    "accès aux droits",
    "non-recours",
    "lutte contre la fraude",
    "relation usager",
    "accessibilité",
    "handicap",
    "vieillissement",
    "petite enfance",
    "éducation",
    "culture",
    "tourisme",
    "agriculture",
    "forêt",
    "littoral",
    "montagne",
    "risques naturels",
    "sécheresse",
    "inondation",
    "urbanisme",
    "zéro artificialisation nette",
    "friches",
    "revitalisation des centres-bourgs",
    "commerce de proximité",
    "emploi",
    "insertion",
    "entrepreneuriat",
    "recherche-action",
    "sciences participatives",
    "communs",
    "logiciels libres",
    "cybersécurité",
    "dématérialisation",
    "archives",
    "communication publique",
    "storytelling",
    "gamification",
    "hackathon",
    "living lab",
    "open innovation",
    "marchés d'innovation",
    "startups d'État",
    "écoconception",
    "low-tech",
    "éthique",
    "RGPD",
    "algorithmes publics",
    "médiation",
    "concertation",
    "évaluation d'impact",
    "mesure de la satisfaction",
    "indicateurs",
    "tableaux de bord",
    "modélisation",
    "scénarios",
    "signaux faibles",
    "veille",
]
SENTENCES = [
    "Je travaille sur {t1} et {t2} au sein de {s}.",
    "J'accompagne les équipes de {c} sur {t1}.",
    "Passionnée par {t1}, je cherche des retours d'expérience sur {t2}.",
    "Après plusieurs années en collectivité, je porte des projets de {t1} à {c}.",
    "Mon sujet du moment : {t2}, avec les agents et les habitants de {c}.",
    "Je coordonne un réseau d'acteurs autour de {t1}.",
    "Intéressé par {t2} et {t3}, je suis ouvert aux échanges.",
    "Nous expérimentons {t1} avec {s} depuis deux ans.",
    "J'anime des ateliers de {t3} et je forme les managers à {t1}.",
    "Je peux partager nos outils sur {t2}.",
]

QUERIES = [
    "innovation",  # common
    "prospective",
    "evaluation",
    "design services",  # two words
    "participation citoyenne",
    "bousquet",  # rare surname
    "sécheresse",  # rare topic
    "low tech",
    "hackathon",
    "martin",
    "martin toulouse",
    "evalu",  # prefixes
    "prosp",
    "numér",
    "carcass",
    "evaluaton",  # typos
    "prospectve",
    "partcipation",
    "inteligence artificielle",
    "toulouse",
    "chargée mission",
    "data",
    "montpellier numérique",
    "caf",
    "agilité management",
]
FILTERS: list[dict[str, str]] = [
    {},
    {},
    {"territory": "Haute-Garonne (31)"},
    {"kind": "Organisme social"},
    {"tag": "prospective"},
    {"territory": "Hérault (34)", "kind": "Commune"},
]


def _zipf_cumulative(n: int, s: float = 1.0) -> list[float]:
    total, out = 0.0, []
    for rank in range(1, n + 1):
        total += 1.0 / rank**s
        out.append(total)
    return out


def _structure(rng: random.Random, kind: str) -> str:
    city = rng.choice(CITIES)
    dept = rng.choice(DEFAULT_TERRITORIES[:13]).split(" (")[0]
    options = {
        "Région": ["Région Occitanie", "Hôtel de Région"],
        "Département": [f"Conseil départemental {dept}"],
        "Métropole": ["Toulouse Métropole", "Montpellier Méditerranée Métropole"],
        "Communauté d'agglomération / de communes": [
            f"Communauté d'agglomération de {city}",
            f"Communauté de communes du Pays de {city}",
        ],
        "Commune": [f"Mairie de {city}", f"Ville de {city}", f"CCAS de {city}"],
        "Autre EPCI": [f"PETR du Pays de {city}", f"Syndicat mixte de {city}", "PNR des Grands Causses"],
        "CNFPT": ["CNFPT Occitanie"],
        "Service de l'État": [
            f"Préfecture {dept}",
            f"DDT {dept}",
            "DREAL Occitanie",
            "SGAR Occitanie",
            "Rectorat de Toulouse",
        ],
        "Organisme social": [
            f"CAF {dept}",
            f"CPAM {dept}",
            "URSSAF Occitanie",
            "CARSAT Languedoc-Roussillon",
            "MSA",
        ],
        "Association": [f"Association {rng.choice(TOPICS)} {city}", f"Tiers-lieu de {city}"],
        "Entreprise": [f"Cabinet {rng.choice(LAST)} Conseil", f"SCOP {rng.choice(LAST)}"],
        "Université / recherche": [
            "Université Toulouse Capitole",
            "Université de Montpellier",
            "INRAE Occitanie",
        ],
        "Autre": [f"Collectif {city}"],
    }
    return rng.choice(options.get(kind, [f"Structure de {city}"]))


class Generator:
    """Synthetic French profiles, reproducible (seeded)."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.kinds = list(DEFAULT_KINDS)
        self.kind_cum = _zipf_cumulative(len(self.kinds), 0.6)
        self.topic_cum = _zipf_cumulative(len(TOPICS))
        self.territory_cum = _zipf_cumulative(len(DEFAULT_TERRITORIES), 0.5)

    def profile(self, i: int) -> dict[str, Any]:
        rng = self.rng
        kind = rng.choices(self.kinds, cum_weights=self.kind_cum)[0]
        structure = _structure(rng, kind)
        tags: list[str] = []
        for t in rng.choices(TOPICS, cum_weights=self.topic_cum, k=rng.randint(2, 6)):
            if t not in tags:
                tags.append(t)
        territories = list(
            dict.fromkeys(
                rng.choices(DEFAULT_TERRITORIES, cum_weights=self.territory_cum, k=rng.choice((1, 1, 1, 2)))
            )
        )
        picks = rng.choices(TOPICS, cum_weights=self.topic_cum, k=3)
        bio = " ".join(
            s.format(t1=picks[0], t2=picks[1], t3=picks[2], s=structure, c=rng.choice(CITIES))
            for s in rng.sample(SENTENCES, rng.randint(2, 4))
        )[:500]
        first, last = rng.choice(FIRST), rng.choice(LAST)
        listed = rng.random() < 0.85
        login = f"{first}.{last}{i}".lower()
        return {
            "id": i,
            "user_id": f"@{_ascii(login)}:agent.tchap.gouv.fr",
            "display_name": f"{first} {last}",
            "name": None,
            "email": f"{_ascii(login)}@exemple.fr",
            "structure": structure,
            "kind": kind,
            "role": rng.choice(ROLES),
            "territories": territories,
            "tags": tags,
            "bio": bio,
            "visible": listed,
            "pending": False,
            "source": "member",
            "created_at": NOW - timedelta(days=rng.uniform(0, 900)),
            "updated_at": NOW,
        }


def _ascii(text_: str) -> str:
    from bot.text import fold

    return "".join(ch for ch in fold(text_) if ch.isalnum() or ch in "._-")


async def _fill(db: Database, total: int) -> float:
    """Store the profiles, and write the postings, vocabulary, variants and facets that
    `save()` writes (same functions), in bulk: per-profile saves of 100 000 profiles would
    take long here, and the benchmark measures reading. Checked on a sample at the end."""
    gen = Generator(42)
    rows = [gen.profile(i) for i in range(1, total + 1)]
    started = time.perf_counter()
    postings: list[dict[str, Any]] = []
    facets: list[dict[str, Any]] = []
    counts: dict[str, int] = {}
    for r in rows:
        p = Profile(**r)
        if not is_listed(p):
            continue
        weights: dict[str, int] = {}
        for text_, weight in search_fields(p):
            for term in terms_of(text_ or ""):
                weights[term] = max(weights.get(term, 0), weight)
        for term, weight in weights.items():
            postings.append({"kind": KIND, "term": term, "doc_id": r["id"], "weight": weight})
            counts[term] = counts.get(term, 0) + 1
        facets.extend({"facet": f, "value": v, "profile_id": r["id"]} for f, v in facets_of(p))
    await write_bulk(
        db,
        Profile,
        rows,
        kind=KIND,
        postings=postings,
        counts=counts,
        extra=[(ProfileFacet.__table__, facets)],  # type: ignore[list-item]
    )
    elapsed = time.perf_counter() - started
    await _check_index(db, [r["id"] for r in rows[:60]])
    return elapsed


async def _check_index(db: Database, ids: list[int]) -> None:
    """The bulk rows equal what `ProfileRepository.reindex` writes: reindex a sample, compare."""

    async def written() -> tuple[set[tuple[Any, ...]], set[tuple[Any, ...]]]:
        async with db.unit() as repos:
            postings = await repos.session.execute(
                select(SearchTerm.doc_id, SearchTerm.term, SearchTerm.weight).where(
                    SearchTerm.kind == KIND, SearchTerm.doc_id.in_(ids)
                )
            )
            facets = await repos.session.execute(
                select(ProfileFacet.profile_id, ProfileFacet.facet, ProfileFacet.value).where(
                    ProfileFacet.profile_id.in_(ids)
                )
            )
            return {tuple(r) for r in postings}, {tuple(r) for r in facets}

    before = await written()
    async with db.unit() as repos:
        profiles = await repos.profiles.many(ids)
        await repos.profiles.reindex(list(profiles.values()))
        await repos.commit()
    assert await written() == before, "bulk index differs from ProfileRepository.reindex"


def _p95(times: list[float]) -> float:
    ordered = sorted(times)
    return ordered[min(len(ordered) - 1, max(0, round(0.95 * len(ordered)) - 1))] if ordered else float("nan")


async def _search(db: Database, n: int, page: int) -> dict[str, float]:
    memory.settle()  # as the bot does once started (bot/memory.py)
    rng = random.Random(7)
    cases = [(q, f) for q in QUERIES for f in FILTERS]
    times: list[float] = []
    by_case: dict[str, list[float]] = {}
    shown = 0
    async with db.unit() as repos:
        for q, f in cases[:10]:  # warm-up
            await repos.profiles.search(DirectoryQuery(text=q, **f), limit=page)
    for i in range(n):
        q, f = cases[i] if i < len(cases) else rng.choice(cases)
        async with db.unit() as repos:
            started = time.perf_counter()
            result = await repos.profiles.search(DirectoryQuery(text=q, **f), limit=page)
            elapsed = (time.perf_counter() - started) * 1000
        times.append(elapsed)
        by_case.setdefault("filters" if f else "words", []).append(elapsed)
        shown += len(result.profiles)
    return {
        "median": statistics.median(times),
        "p95": _p95(times),
        "p95_words": _p95(by_case.get("words", [])),
        "p95_filters": _p95(by_case.get("filters", [])),
        "max": max(times),
        "shown": shown / n,
    }


def _contacts_csv(n: int) -> bytes:
    """A contact book of `n` people as the export writes it (French headers, `;`)."""
    gen = Generator(1234)

    class Row:
        def __init__(self, r: dict[str, Any]) -> None:
            self.__dict__.update(r)
            self.user_id = r["user_id"].replace(":agent", "-import:agent")
            self.shown_name = r["display_name"]

    return to_csv(Row(gen.profile(i)) for i in range(1, n + 1)).encode("utf-8-sig")  # type: ignore[misc]


async def _import(db: Database, n: int) -> float:
    data = _contacts_csv(n)
    started = time.perf_counter()
    report = await import_contacts(db, data, DirectoryConfig())
    elapsed = time.perf_counter() - started
    assert len(report.outcome.created) == n and not report.parsed.bad_rows, report.parsed.bad_rows[:3]
    return elapsed


async def _run_engine(name: str, url: str, args: argparse.Namespace) -> dict[str, float]:
    db = Database(url)
    try:
        await db.migrate()
        print(f"[{name}] importing {args.contacts} contacts from a generated CSV…", flush=True)
        import_s = await _import(db, args.contacts)
        print(
            f"[{name}] import of {args.contacts} contacts: {import_s:.2f} s "
            "(parse, validate, one transaction)"
        )
        async with db.engine.begin() as conn:
            await conn.execute(text("DELETE FROM profiles"))
        print(f"[{name}] filling {args.profiles} profiles…", flush=True)
        fill = await _fill(db, args.profiles)
        print(f"[{name}] stored and indexed in {fill:.1f} s")
        print(f"[{name}] {cpu_check()}")
        s = await _search(db, args.queries, args.page)
        print(
            f"[{name}] search over {args.profiles} profiles: median {s['median']:.2f} ms, "
            f"p95 {s['p95']:.2f} ms, max {s['max']:.1f} ms ({args.queries} queries, "
            f"{s['shown']:.1f} profiles shown on average; p95 words only {s['p95_words']:.2f} ms, "
            f"with filters {s['p95_filters']:.2f} ms)"
        )
        # The same queries again: a database just bulk-loaded is still settling (pages
        # read for the first time), a running bot's is not. Printed, not in RESULT.
        again = await _search(db, args.queries, args.page)
        print(
            f"[{name}] the same queries again: median {again['median']:.2f} ms, "
            f"p95 {again['p95']:.2f} ms, max {again['max']:.1f} ms"
        )
        return {**s, "import": import_s}
    finally:
        await db.dispose()


async def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--profiles", type=int, default=100_000, help="profiles searched")
    parser.add_argument("--contacts", type=int, default=10_000, help="contacts imported")
    parser.add_argument("--queries", type=int, default=300, help="search queries timed")
    parser.add_argument("--page", type=int, default=8, help="profiles per result page")
    parser.add_argument("--engines", default="sqlite,postgres")
    parser.add_argument("--postgres", default=DEFAULT_PG, help="PostgreSQL server (a database is created)")
    args = parser.parse_args()
    load_features()
    try:
        import os

        load = os.getloadavg()[0]
    except OSError:
        load = float("nan")
    print(f"{datetime.now().isoformat(timespec='minutes')}, load average {load:.1f}, {cpu_check()}")
    results: dict[str, dict[str, float]] = {}
    engines = [e.strip() for e in args.engines.split(",") if e.strip()]
    if "sqlite" in engines:
        with tempfile.TemporaryDirectory() as tmp:
            results["sqlite"] = await _run_engine("sqlite", f"sqlite+aiosqlite:///{tmp}/bench.db", args)
    if "postgres" in engines:
        try:
            url = await create_database(args.postgres, "oasis_bench")
        except Exception as exc:  # unreachable server: say so, measure the rest
            print(f"[postgres] skipped: {args.postgres} unreachable ({type(exc).__name__}: {exc})")
        else:
            try:
                results["postgres"] = await _run_engine("postgres", url, args)
            finally:
                await drop_database(args.postgres, url)

    def fig(engine: str, key: str) -> str:
        return f"{results[engine][key]:.1f}" if engine in results else "nan"

    slowest_import = max((r["import"] for r in results.values()), default=float("nan"))
    print(
        f"RESULT sqlite_p95_ms={fig('sqlite', 'p95')} postgres_p95_ms={fig('postgres', 'p95')} "
        f"import_10k_s={slowest_import:.2f}"
    )


if __name__ == "__main__":
    asyncio.run(main())
