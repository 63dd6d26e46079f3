"""Benchmark: tallying a survey and computing `!evaluation`, on SQLite and PostgreSQL.

    .venv/bin/python bench/surveys.py                    # 10 000 answers; a year for 1 000 members
    .venv/bin/python bench/surveys.py --engines sqlite
    .venv/bin/python bench/surveys.py --scale 0.1        # ten times smaller

For each engine a fresh database is made (a temporary SQLite file; a new database on the
PostgreSQL server, `--postgres`, dropped at the end), then:

- tally: a survey with 10 000 answers (one to three choices each) — what
  `!sondage resultats` and the close do: the grouped count, the counts per answer and the
  results message with its bar chart; median of repeated runs;
- evaluation: a year of the network's life for 1 000 members (their arrivals, 3 000 signals
  with 12 000 supports and 1 500 comments, 52 digests, 60 closed surveys with 24 000
  answers) — what `!evaluation annee` computes before drawing: every feature's indicators
  for the year and the year before, and the chart's 12 steps; median of repeated runs.

Targets: tally under 50 ms, evaluation under 200 ms. The last line is
`RESULT tally_10k_sqlite_ms=… tally_10k_postgres_ms=… evaluation_sqlite_ms=… evaluation_postgres_ms=…`."""

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

from bulk import cpu_check
from sqlalchemy import insert, text

from bot.context import Context, Services
from bot.features import load_features
from bot.registry import REGISTRY
from bot.roles import Role
from commands.evaluation.periods import STEPS, period_ending
from commands.evaluation.render import evaluation_text
from commands.evaluation.service import evaluate
from commands.sondages.service import current, results_rich
from storage.db import Database
from storage.models.directory import Welcome
from storage.models.signals import Digest, Signal, SignalComment, SignalSupport
from storage.models.sondages import Survey, SurveyResponse
from storage.repositories.sondages import SurveyRepository
from tests.support.databases import create_database, drop_database
from tests.support.fakes import FakeRooms, make_services, test_config

DEFAULT_PG = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
NOW = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
ROOM = "!reseau:example.org"
CHUNK = 5_000


def members(n: int) -> list[str]:
    return [f"@membre{i}:example.org" for i in range(n)]


def survey_row(
    sid: int, *, closed: datetime | None, kind: str = "question", answers: int = 5
) -> dict[str, Any]:
    created = (closed or NOW) - timedelta(days=7)
    labels = [str(v) for v in range(11)] if kind == "nps" else [f"Réponse {i + 1}" for i in range(answers)]
    return {
        "id": sid,
        "room_id": ROOM,
        "question": f"Question {sid} ?",
        "answers": labels,
        "kind": kind,
        "max_selections": 3 if kind == "question" else 1,
        "anonymous": False,
        "hidden": False,
        "audience": "salon",
        "author_id": "@anim:example.org",
        "created_at": created,
        "closes_at": closed or NOW + timedelta(days=7),
        "closed_at": closed,
    }


async def insert_rows(db: Database, model: Any, rows: list[dict[str, Any]]) -> None:
    for i in range(0, len(rows), CHUNK):
        async with db.unit() as repos:
            await repos.session.execute(insert(model), rows[i : i + CHUNK])
            await repos.commit()


async def fill(db: Database, scale: float, rng: random.Random) -> None:
    people = members(max(10, int(1000 * scale)))
    year = timedelta(days=365)
    start = NOW - 2 * year  # two years: the evaluated year and the one before

    def moment() -> datetime:
        return start + timedelta(seconds=rng.randrange(int(2 * year.total_seconds())))

    await insert_rows(
        db,
        Welcome,
        [
            {"group_key": "reseau", "user_id": p, "room_id": ROOM, "posted": True, "joined_at": moment()}
            for p in people
        ],
    )
    signals = int(3000 * scale)
    signal_rows = []
    for sid in range(1, signals + 1):
        at = moment()
        signal_rows.append(
            {
                "id": sid,
                "theme": "changement climatique",
                "title": f"Signal {sid}",
                "category": "environnemental",
                "nature": "signal_faible",
                "author_id": rng.choice(people),
                "origin": "member",
                "status": "proposed",
                "created_at": at,
                "updated_at": at,
            }
        )
    await insert_rows(db, Signal, signal_rows)
    pairs = {(rng.randrange(1, signals + 1), rng.choice(people)) for _ in range(int(12_000 * scale))}
    await insert_rows(
        db, SignalSupport, [{"signal_id": s, "user_id": u, "created_at": moment()} for s, u in pairs]
    )
    await insert_rows(
        db,
        SignalComment,
        [
            {
                "signal_id": rng.randrange(1, signals + 1),
                "author_id": rng.choice(people),
                "text": "vu",
                "created_at": moment(),
            }
            for _ in range(int(1500 * scale))
        ],
    )
    digests = []
    for week in range(104):
        at = NOW - timedelta(weeks=week)
        digests.append(
            {
                "week": f"w{week}",
                "period_start": at,
                "period_end": at,
                "items": [],
                "total": 0,
                "rooms": [],
                "created_at": at,
            }
        )
    await insert_rows(db, Digest, digests)
    # Closed surveys over two years (pulses, NPS, questions), with their final figures.
    surveys, answers = [], []
    for sid in range(2, 122):
        closed = NOW - timedelta(days=6 * (sid - 1))
        kind = ("pouls", "nps", "question")[sid % 3]
        row = survey_row(sid, closed=closed, kind=kind)
        size = len(row["answers"])
        voters = rng.sample(people, k=int(len(people) * rng.uniform(0.2, 0.5)))
        counts = [0] * size
        for voter in voters:
            choice = rng.randrange(size)
            counts[choice] += 1
            answers.append(
                {
                    "survey_id": sid,
                    "voter": voter,
                    "choices": 1 << choice,
                    "spoiled": False,
                    "origin_ts": int((closed - timedelta(days=rng.uniform(0, 7))).timestamp() * 1000),
                    "via": "poll",
                }
            )
        row["results"] = {"respondents": len(voters), "eligible": len(people), "counts": counts}
        surveys.append(row)
    # The survey tallied: open, 10 000 answers of one to three choices (a scenario of its
    # own: 10 000 voters, answered before the years the evaluation looks at).
    tallied = survey_row(1, closed=None)
    for n in range(int(10_000 * scale)):
        choices = rng.sample(range(5), k=rng.choice((1, 1, 1, 2, 3)))
        answers.append(
            {
                "survey_id": 1,
                "voter": f"@votant{n}:example.org",
                "choices": sum(1 << c for c in choices),
                "spoiled": False,
                # Long ago: its 10 000 voters are not the members the evaluation counts.
                "origin_ts": int((NOW - timedelta(days=3 * 365)).timestamp() * 1000) - n,
                "via": "poll",
            }
        )
    await insert_rows(db, Survey, [tallied, *surveys])
    await insert_rows(db, SurveyResponse, answers)
    async with db.engine.begin() as conn:
        if not db.is_sqlite:
            for table in ("signals", "surveys"):
                await conn.execute(text(f"SELECT setval('{table}_id_seq', (SELECT max(id) FROM {table}))"))
        await conn.execute(text("ANALYZE"))
    print(
        f"  {len(people)} members, {signals} signals, {len(pairs)} supports, {len(surveys)} closed surveys, "
        f"{len(answers)} answers",
        flush=True,
    )


def services() -> Services:
    rooms = FakeRooms(members={ROOM: members(1000)}, room_names={ROOM: "OASIS — réseau"})
    return make_services(test_config(), rooms=rooms, clock=lambda: NOW)


async def timed(runs: int, fn: Any) -> list[float]:
    out = []
    for _ in range(runs):
        begin = time.perf_counter()
        await fn()
        out.append((time.perf_counter() - begin) * 1000)
    return out


async def run_engine(url: str, scale: float, runs: int) -> tuple[float, float]:
    db = Database(url)
    await db.migrate()
    await fill(db, scale, random.Random(14))
    svc = services()
    load_features()
    registry = REGISTRY

    async def tally_once() -> None:
        async with db.unit() as repos:
            ctx = Context(svc, repos, "@anim:example.org", ROOM, None, False, "fr", Role.ANIMATOR)
            survey = await repos.of(SurveyRepository).get(1)
            assert survey is not None
            outcome = await current(ctx, survey)
            assert outcome.tally is not None and outcome.respondents == int(10_000 * scale)
            results_rich(ctx, survey, outcome)

    async def evaluation_once() -> None:
        async with db.unit() as repos:
            ctx = Context(svc, repos, "@anim:example.org", ROOM, None, False, "fr", Role.ANIMATOR)
            period = period_ending("annee", NOW)
            found = await evaluate(ctx, registry.indicators, period, STEPS["annee"])
            evaluation_text(ctx.tr, found, lambda f: f, "evaluation.periods.annee")

    await tally_once()
    await evaluation_once()  # warm: statements prepared, pages cached, as in a running bot
    tally_ms = await timed(runs, tally_once)
    evaluation_ms = await timed(runs, evaluation_once)
    print(
        f"  tally of {int(10_000 * scale)} answers: median {statistics.median(tally_ms):.1f} ms, "
        f"max {max(tally_ms):.1f} ms",
        flush=True,
    )
    print(
        f"  !evaluation annee: median {statistics.median(evaluation_ms):.1f} ms, "
        f"max {max(evaluation_ms):.1f} ms",
        flush=True,
    )
    await db.dispose()
    return statistics.median(tally_ms), statistics.median(evaluation_ms)


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--engines", default="sqlite,postgres")
    parser.add_argument("--postgres", default=DEFAULT_PG)
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    print(f"{datetime.now().isoformat(timespec='minutes')}, {cpu_check()}", flush=True)
    figures: dict[str, str] = {}
    for engine in args.engines.split(","):
        print(f"{engine}:", flush=True)
        if engine == "sqlite":
            with tempfile.TemporaryDirectory() as tmp:
                tally_ms, eval_ms = await run_engine(
                    f"sqlite+aiosqlite:///{tmp}/bench.db", args.scale, args.runs
                )
        else:
            url = await create_database(args.postgres, "oasis_bench")
            try:
                tally_ms, eval_ms = await run_engine(url, args.scale, args.runs)
            finally:
                await drop_database(args.postgres, url)
        name = "postgres" if engine.startswith("postgres") else "sqlite"
        figures[f"tally_10k_{name}_ms"] = f"{tally_ms:.1f}"
        figures[f"evaluation_{name}_ms"] = f"{eval_ms:.1f}"
    order = ["tally_10k_sqlite_ms", "tally_10k_postgres_ms", "evaluation_sqlite_ms", "evaluation_postgres_ms"]
    print("RESULT " + " ".join(f"{k}={figures[k]}" for k in order if k in figures))
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
