"""Limits and faults: what one hostile message, a flood or an outage costs everyone else.

    .venv/bin/python bench/limits.py                          # every part
    .venv/bin/python bench/limits.py --parts freeze,flood     # some of them
    .venv/bin/python bench/limits.py --postgres postgresql+asyncpg://postgres@127.0.0.1:5432/test

Parts (the bot runs as operators run it, `python -m bot run`, against an embedded Synapse):

- freeze: a member sends one 57 KB `!annuaire xy xy …`; right after, another member sends
  `!ping` in the same room. Figure: how long the bystander waited for « pong » (the
  whole bot is frozen while one message is handled on its event loop), against a
  `!ping` alone.
- flood: the bot limited by Synapse to 1 message/s (burst 1, the admin API); a member
  sends 30 `!ping` in their direct chat, then another member sends `!ping` in a room.
  Figure: the bystander's wait for « pong ».
- cache: 1 000 searches of varied words (1 to 120 words, varied lengths, so varied
  statement shapes) on a small index, in this process, on SQLite and PostgreSQL. Figure:
  growth of the resident memory between the 50th and the 1 000th search, and the
  statements kept; then one search of 3 000 distinct words.
- sigterm: SIGTERM to `oasis-bot run` (1) while it retries its login, the homeserver
  refusing connections, and (2) while serving, the homeserver cut off (a TCP proxy in
  front of it, closed). Figure: seconds from the signal to the process's exit, and the
  exit code.

Last line: `RESULT freeze_ping_s=… flood_ping_s=… cache_growth_mb_sqlite=…
cache_growth_mb_postgres=… sigterm_login_s=… sigterm_serving_s=…`."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import random
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bot.homeserver import Account, EmbeddedSynapse, _http_json, free_port, process_rss_mb  # noqa: E402
from tests.support.matrix import TestUser, replies_to, room_with_bot  # noqa: E402
from tests.support.process import BotProcess  # noqa: E402
from tests.support.proxy import TcpProxy  # noqa: E402

DEFAULT_PG = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
RESULTS: dict[str, str] = {}


def result(key: str, value: float | int | str) -> None:
    RESULTS[key] = f"{value:.2f}" if isinstance(value, float) else str(value)


async def migrated_sqlite(folder: Path, name: str) -> str:
    from storage.db import Database

    url = f"sqlite+aiosqlite:///{folder / (name + '.db')}"
    db = Database(url)
    await db.migrate()
    await db.dispose()
    return url


async def started_user(hs: EmbeddedSynapse, name: str) -> TestUser:
    account = await asyncio.to_thread(hs.register, f"{name}{random.randrange(10**6)}", "pw")
    user = TestUser(hs, account, auto_join_from=None)
    await user.start()
    return user


async def ping_wait(user: TestUser, room: str, bot_id: str) -> float:
    mark = user.mark()
    started = time.monotonic()
    await user.send(room, "!ping")
    await user.wait_message(sender=bot_id, room_id=room, since=mark, contains="pong", timeout=180)
    return time.monotonic() - started


async def with_bot(
    hs: EmbeddedSynapse, folder: Path, name: str, **sections: Any
) -> tuple[BotProcess, Account]:
    account = await asyncio.to_thread(hs.register, f"oasis{name}{random.randrange(10**6)}", "pw")
    bot = BotProcess(hs, account, await migrated_sqlite(folder, name), folder, name=name, **sections)
    bot.start()
    await bot.wait_role("active", timeout=120)
    return bot, account


# --- freeze -------------------------------------------------------------------------------------
async def bench_freeze(hs: EmbeddedSynapse, folder: Path) -> None:
    bot, account = await with_bot(hs, folder, "freeze")
    users: list[TestUser] = []
    try:
        alice, bob = await started_user(hs, "alice"), await started_user(hs, "bob")
        users += [alice, bob]
        room = await room_with_bot(alice, account.user_id, bob)
        alone = sorted([await ping_wait(bob, room, account.user_id) for _ in range(3)])[1]
        body = "!annuaire " + "xy " * 19_000  # 57 010 characters
        mark = alice.mark()
        sent = time.monotonic()
        event_id = await alice.send(room, body)
        during = await ping_wait(bob, room, account.user_id)
        try:
            answer = await alice.wait_for(
                lambda s: s.sender == account.user_id and replies_to([s], [event_id]) == [event_id],
                since=mark,
                timeout=120,
            )
            took = time.monotonic() - sent
            answered = f"answered after {took:.2f} s ({len(answer.body)} characters: {answer.body[:90]!r})"
            result("freeze_answer_s", took)
        except AssertionError:
            refused = "M_TOO_LARGE" in bot.log()
            answered = "never answered" + (
                " (the homeserver refused the answer: M_TOO_LARGE)" if refused else ""
            )
            result("freeze_answer_s", "none")
        print(
            f"freeze: a `!ping` alone {alone:.2f} s; right after a {len(body)}-character "
            f"`!annuaire xy xy …`: {during:.2f} s; the long message {answered}"
        )
        result("freeze_ping_s", during)
    finally:
        for u in users:
            await u.stop()
        await bot.stop()


# --- flood --------------------------------------------------------------------------------------
async def bench_flood(hs: EmbeddedSynapse, folder: Path) -> None:
    bot, account = await with_bot(hs, folder, "flood")
    users: list[TestUser] = []
    try:
        admin = await asyncio.to_thread(hs.register, f"admin{random.randrange(10**6)}", "pw", admin=True)
        await asyncio.to_thread(
            _http_json,
            "POST",
            f"{hs.url}/_synapse/admin/v1/users/{account.user_id}/override_ratelimit",
            {"messages_per_second": 1, "burst_count": 1},
            admin.access_token,
        )
        alice, bob = await started_user(hs, "alice"), await started_user(hs, "bob")
        users += [alice, bob]
        room = await room_with_bot(bob, account.user_id, alice)  # alice: a member, flooding her DM
        dm = await alice.create_room(None, invite=[account.user_id], is_direct=True)
        await alice.wait_for(
            lambda s: (
                s.room_id == dm
                and s.type == "m.room.member"
                and s.event.get("state_key") == account.user_id
                and s.content.get("membership") == "join"
            ),
            timeout=60,
        )
        await asyncio.sleep(2)  # the rate limiter's bucket refills
        alone = await ping_wait(bob, room, account.user_id)
        await asyncio.sleep(2)
        mark = alice.mark()
        flood_started = time.monotonic()
        for _ in range(30):
            await alice.send(dm, "!ping")
        await asyncio.sleep(1)  # the flood is in the bot's hands
        during = await ping_wait(bob, room, account.user_id)

        def answers() -> int:
            return len(alice.messages(sender=account.user_id, room_id=dm, since=mark))

        deadline = time.monotonic() + 120
        while answers() < 30 and time.monotonic() < deadline:  # noqa: ASYNC110
            await asyncio.sleep(0.2)
        flood_done = time.monotonic() - flood_started
        pongs = sum("pong" in s.body for s in alice.messages(sender=account.user_id, room_id=dm, since=mark))
        print(
            f"flood (bot at 1 message/s): a `!ping` alone {alone:.2f} s; during 30 `!ping` in "
            f"another member's direct chat: {during:.2f} s; the flooder got {answers()} messages "
            f"({pongs} « pong ») within {flood_done:.1f} s"
        )
        result("flood_ping_s", during)
        result("flood_pongs", pongs)
    finally:
        for u in users:
            await u.stop()
        await bot.stop()


# --- cache --------------------------------------------------------------------------------------
VOCAB = [
    "climat",
    "eau",
    "sécheresse",
    "inondation",
    "énergie",
    "mobilité",
    "vélo",
    "forêt",
    "agriculture",
    "santé",
    "école",
    "numérique",
    "données",
    "évaluation",
    "prospective",
    "territoire",
    "littoral",
    "montagne",
    "tourisme",
    "déchets",
    "alimentation",
    "biodiversité",
    "habitat",
    "logement",
    "transport",
    "emploi",
    "jeunesse",
    "culture",
    "sport",
    "démocratie",
    "participation",
    "innovation",
    "design",
    "service",
    "usager",
    "accueil",
    "insertion",
]


def varied_query(rng: random.Random) -> str:
    words = []
    for _ in range(rng.randint(1, 120)):
        w = rng.choice(VOCAB)
        cut = rng.choice([None, None, 1, 2, 3, 5])  # prefixes of several lengths, single letters
        if cut:
            w = w[:cut]
        if rng.random() < 0.2 and len(w) > 4:  # a typo
            i = rng.randrange(len(w) - 1)
            w = w[:i] + w[i + 1] + w[i] + w[i + 2 :]
        words.append(w)
    return " ".join(words)


async def bench_cache_engine(url: str, label: str) -> None:
    from storage.db import Database
    from storage.repositories import base

    db = Database(url)
    await db.migrate()
    rng = random.Random(11)
    async with db.unit() as repos:
        docs = {i: [(" ".join(rng.sample(VOCAB, 6)), 3)] for i in range(1, 301)}
        await repos.search.index_many("bench", docs)
        await repos.commit()
    queries = [varied_query(rng) for _ in range(1000)]
    errors = 0
    rss_at_50 = 0.0
    started = time.monotonic()
    for n, q in enumerate(queries, 1):
        try:
            async with db.unit() as repos:
                await repos.search.search("bench", q, limit=10)
        except Exception as exc:
            errors += 1
            if errors == 1:
                print(f"cache ({label}): first error: {type(exc).__name__}: {str(exc)[:160]}")
        if n == 50:
            gc.collect()
            rss_at_50 = process_rss_mb()
    elapsed = time.monotonic() - started
    gc.collect()
    growth = process_rss_mb() - rss_at_50
    kept = len(base._PREPARED)
    print(
        f"cache ({label}): 1 000 varied searches in {elapsed:.1f} s, {errors} errors; resident memory "
        f"+{growth:.1f} MB from the 50th to the 1 000th; {kept} statements kept"
    )
    result(f"cache_growth_mb_{label}", growth)
    many = " ".join(f"{rng.choice(VOCAB)}{i}" for i in range(3000))  # 3 000 distinct words
    started = time.monotonic()
    try:
        async with db.unit() as repos:
            await repos.search.search("bench", many, limit=10)
        said = f"{time.monotonic() - started:.2f} s"
        result(f"words_3000_s_{label}", time.monotonic() - started)
    except Exception as exc:
        said = f"{type(exc).__name__}: {str(exc)[:120]}"
        result(f"words_3000_s_{label}", "error")
    print(f"cache ({label}): one search of 3 000 distinct words: {said}")
    result(f"cache_errors_{label}", errors)
    await db.dispose()


async def bench_cache(folder: Path, postgres: str | None, engines: set[str]) -> None:
    """Each engine in a process of its own: memory freed by one run is not reused by the next."""
    urls = [("sqlite", f"sqlite+aiosqlite:///{folder / 'cache.db'}")] if "sqlite" in engines else []
    made = None
    if postgres and "postgres" in engines:
        from tests.support.databases import create_database, drop_database

        try:
            made = await create_database(postgres, "oasis_bench_limits")
            urls.append(("postgres", made))
        except Exception as exc:
            print(f"cache (postgres): skipped, {type(exc).__name__}: {exc}")
    try:
        for label, url in urls:
            child = await asyncio.create_subprocess_exec(
                sys.executable,
                __file__,
                "--cache-engine",
                url,
                "--cache-label",
                label,
                stdout=asyncio.subprocess.PIPE,
            )
            out, _ = await child.communicate()
            for line in out.decode().splitlines():
                if line.startswith("RESULT "):
                    RESULTS.update(dict(kv.split("=", 1) for kv in line.split()[1:]))
                else:
                    print(line)
    finally:
        if made is not None:
            await drop_database(postgres or "", made)


# --- sigterm ------------------------------------------------------------------------------------
async def stop_time(proc: subprocess.Popen[bytes]) -> tuple[float, int | None]:
    started = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    while proc.poll() is None and time.monotonic() - started < 60:  # noqa: ASYNC110
        await asyncio.sleep(0.02)
    took = time.monotonic() - started
    if proc.poll() is None:
        proc.kill()
        return took, None
    return took, proc.returncode


async def bench_sigterm(hs: EmbeddedSynapse, folder: Path) -> None:
    # 1. At login, the homeserver refusing connections.
    account = Account("@nobody:localhost", "pw", "", "")
    down = EmbeddedSynapse(folder / "unused", port=free_port())  # nothing listens there
    bot = BotProcess(down, account, await migrated_sqlite(folder, "sigterm1"), folder, name="sigterm1")
    bot.start()
    assert bot.process is not None
    # Started, in its login retries: it has said the homeserver does not answer.
    while f"127.0.0.1:{down.port}" not in bot.log() and bot.alive():  # noqa: ASYNC110
        await asyncio.sleep(0.1)
    await asyncio.sleep(1)
    took, code = await stop_time(bot.process)
    print(f"sigterm at login (homeserver refusing): exit after {took:.2f} s, code {code}")
    result("sigterm_login_s", took)
    # 2. Serving, then the homeserver cut off.
    proxy = TcpProxy("127.0.0.1", hs.port)
    await proxy.start()
    front = EmbeddedSynapse(folder / "unused", port=proxy.port)
    account = await asyncio.to_thread(hs.register, f"oasissig{random.randrange(10**6)}", "pw")
    bot = BotProcess(front, account, await migrated_sqlite(folder, "sigterm2"), folder, name="sigterm2")
    bot.start()
    assert bot.process is not None
    try:
        await bot.wait_role("active", timeout=120)
        await proxy.cut()
        await asyncio.sleep(8)
        took, code = await stop_time(bot.process)
    finally:
        await proxy.stop()
    print(f"sigterm while serving (homeserver cut off): exit after {took:.2f} s, code {code}")
    result("sigterm_serving_s", took)


async def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--parts", default="freeze,flood,cache,sigterm")
    parser.add_argument("--postgres", default=DEFAULT_PG, help="a PostgreSQL server URL ('' to skip)")
    parser.add_argument("--engines", default="sqlite,postgres", help="for the cache part")
    parser.add_argument("--cache-engine", help=argparse.SUPPRESS)  # one engine's cache run
    parser.add_argument("--cache-label", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.cache_engine:
        await bench_cache_engine(args.cache_engine, args.cache_label)
        print("RESULT " + " ".join(f"{k}={v}" for k, v in RESULTS.items()))
        return
    parts = set(args.parts.split(","))
    with tempfile.TemporaryDirectory(prefix="oasis-limits-") as tmp:
        folder = Path(tmp)
        hs = None
        if parts & {"freeze", "flood", "sigterm"}:
            hs = EmbeddedSynapse(folder / "synapse")
            await hs.start()
        try:
            if "cache" in parts:
                await bench_cache(folder, args.postgres or None, set(args.engines.split(",")))
            if "freeze" in parts and hs:
                await bench_freeze(hs, folder)
            if "flood" in parts and hs:
                await bench_flood(hs, folder)
            if "sigterm" in parts and hs:
                await bench_sigterm(hs, folder)
        finally:
            if hs is not None:
                with contextlib.suppress(Exception):
                    await hs.stop()
    print("RESULT " + " ".join(f"{k}={v}" for k, v in RESULTS.items()))


if __name__ == "__main__":
    asyncio.run(main())
