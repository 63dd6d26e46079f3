"""Probe: the search benchmarks' queries on a database kept between runs, with each
statement's time — for finding where a search spends its time, and for comparing two
versions of the code in alternation, without refilling 100 000 documents (2–3 minutes per
engine) every time.

    .venv/bin/python bench/probe.py fill directory --engine postgres
    .venv/bin/python bench/probe.py run directory --engine postgres --rounds 3
    .venv/bin/python bench/probe.py run signals --engine sqlite --trace

`fill` makes the database (PostgreSQL: `oasis_probe_<set>` on `--postgres`, replaced;
SQLite: a file in the temporary directory) exactly as the benchmark fills it. `run` times
its 300 queries per round (median, p95, max) and lists the slowest cases; `--trace` adds
the time and rows of each statement run by the driver (`fetch_prepared`: the search's
own statements) for the slowest run of each of those cases. Not a benchmark: its figures
are for comparisons made in the same minutes (this VM's speed moves by half within an
hour; alternate A and B)."""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import digest
import directory
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from bot import memory
from bot.features import load_features
from storage.db import Database, normalize_url
from storage.repositories import base, profiles, search
from storage.repositories.profiles import DirectoryQuery
from storage.repositories.signals import SignalFilter
from tests.support.databases import drop_database

Statement = tuple[str, float, int]  # what ran, ms, rows
_trace: list[Statement] = []


def _traced(real: Callable[..., Awaitable[list[Any]]]) -> Callable[..., Awaitable[list[Any]]]:
    async def timed(connection: Any, key: Any, build: Any, params: Any) -> list[Any]:
        started = time.perf_counter()
        rows = await real(connection, key, build, params)
        _trace.append((str(key)[:70], (time.perf_counter() - started) * 1000, len(rows)))
        return rows

    return timed


def _sqlite_file(args: argparse.Namespace) -> Path:
    return Path(tempfile.gettempdir()) / f"oasis-probe-{args.set}.db"


def _url(args: argparse.Namespace) -> str:
    if args.engine == "sqlite":
        return f"sqlite+aiosqlite:///{_sqlite_file(args)}"
    server = make_url(normalize_url(args.postgres))
    return server.set(database=f"oasis_probe_{args.set}").render_as_string(hide_password=False)


async def _fill(args: argparse.Namespace) -> None:
    if args.engine == "sqlite":
        url = _url(args)  # the file was removed by `main`
    else:
        url = _url(args)
        await drop_database(args.postgres, url)
        engine = create_async_engine(normalize_url(args.postgres), isolation_level="AUTOCOMMIT")
        try:
            async with engine.connect() as conn:
                await conn.execute(text(f'CREATE DATABASE "oasis_probe_{args.set}"'))
        finally:
            await engine.dispose()
    db = Database(url)
    try:
        await db.migrate()
        if args.set == "directory":
            seconds = await directory._fill(db, 100_000)
        else:
            seconds = await digest._fill(db, 100_000, 10_000, "realistic")
        print(f"filled {url} in {seconds:.0f} s")
    finally:
        await db.dispose()


async def _run(args: argparse.Namespace) -> None:
    if args.trace:
        timed = _traced(base.fetch_prepared)
        for module in (base, search, profiles):
            setattr(module, "fetch_prepared", timed)  # noqa: B010
    db = Database(_url(args))
    memory.settle()
    bench: Any = directory if args.set == "directory" else digest
    cases = [(q, f) for q in bench.QUERIES for f in bench.FILTERS]

    async def one(repos: Any, q: str, f: dict[str, Any]) -> None:
        if args.set == "directory":
            await repos.profiles.search(DirectoryQuery(text=q, **f), limit=8)
        else:
            await repos.signals.find(SignalFilter(text=q, **f), limit=10)

    try:
        async with db.unit() as repos:
            for q, f in cases[:10]:  # as the benchmarks warm up
                await one(repos, q, f)
        for round_ in range(args.rounds):
            rng = random.Random(7)
            times: list[float] = []
            per_case: dict[tuple[str, str], list[tuple[float, list[Statement]]]] = {}
            for i in range(args.queries):
                q, f = cases[i] if i < len(cases) else rng.choice(cases)
                _trace.clear()
                async with db.unit() as repos:
                    started = time.perf_counter()
                    await one(repos, q, f)
                    elapsed = (time.perf_counter() - started) * 1000
                times.append(elapsed)
                per_case.setdefault((q, str(f)), []).append((elapsed, list(_trace)))
            print(
                f"round {round_}: median {statistics.median(times):.2f} ms, "
                f"p95 {directory._p95(times):.2f} ms, max {max(times):.1f} ms"
            )
            slowest = sorted(per_case.items(), key=lambda kv: -max(t for t, _ in kv[1]))[: args.top]
            for (q, f), runs in slowest:
                worst, statements = max(runs, key=lambda run: run[0])
                median = statistics.median(t for t, _ in runs)
                print(f"  {worst:6.1f} ms (median {median:.1f} of {len(runs)})  {q!r} {f}")
                for key, ms, rows in statements:
                    print(f"      {ms:6.2f} ms {rows:6d} rows  {key}")
    finally:
        await db.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("action", choices=["fill", "run"])
    parser.add_argument("set", choices=["directory", "signals"], help="which benchmark's data and queries")
    parser.add_argument("--engine", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--postgres", default=directory.DEFAULT_PG, help="PostgreSQL server")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--top", type=int, default=8, help="slowest cases listed per round")
    parser.add_argument("--trace", action="store_true", help="each statement's time")
    args = parser.parse_args()
    load_features()
    if args.action == "fill" and args.engine == "sqlite":
        for suffix in ("", "-wal", "-shm"):
            Path(f"{_sqlite_file(args)}{suffix}").unlink(missing_ok=True)
    asyncio.run(_fill(args) if args.action == "fill" else _run(args))


if __name__ == "__main__":
    main()
