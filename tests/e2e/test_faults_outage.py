"""Outages of 30 seconds, and Synapse's default message rate limit, against real servers.

One test, three bots, one 30-second wait shared by all (the suite's time matters):
- the homeserver stopped for 30 s (a Synapse of this module's own, so the session's one
  serves the others meanwhile): the bot resumes by itself and answers everything once;
- the database unreachable for 30 s (PostgreSQL behind a TCP proxy the test cuts — the
  shared server is never stopped): the bot steps down, takes its place back when the
  database returns, and answers what was sent meanwhile, once;
- Synapse's default `rc_message` (0.2 messages/s after a burst of 10; a third Synapse,
  configured without it): a burst from two members is answered whole, in order per member."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import make_url

from bot.app import App
from bot.homeserver import RELAXED_LIMITS, Account, EmbeddedSynapse
from tests.conftest import bot_config, run_app
from tests.e2e.test_faults_kill import answered_once_in_order
from tests.support.databases import create_postgres_database, drop_postgres_database, postgres_required
from tests.support.matrix import TestUser, replies_to, room_with_bot
from tests.support.process import BotProcess
from tests.support.proxy import TcpProxy

OUTAGE = 30.0
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
async def two_homeservers(
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[tuple[EmbeddedSynapse, EmbeddedSynapse]]:
    """One to stop (relaxed limits), one with Synapse's own `rc_message` (not set: its
    default, 0.2/s after a burst of 10); started together."""
    own = EmbeddedSynapse(tmp_path_factory.mktemp("outage"), rate_limits=RELAXED_LIMITS)
    limits = {k: v for k, v in RELAXED_LIMITS.items() if k != "rc_message"}
    strict = EmbeddedSynapse(tmp_path_factory.mktemp("limits"), rate_limits=limits)
    await asyncio.gather(own.start(), strict.start())
    yield own, strict
    await asyncio.gather(own.stop(), strict.stop())


@pytest.fixture
async def proxied_postgres() -> AsyncIterator[tuple[str, TcpProxy]]:
    try:
        url = await create_postgres_database()
    except Exception as exc:
        if postgres_required():
            pytest.fail(f"PostgreSQL unavailable: {exc}")
        pytest.skip(f"PostgreSQL unavailable: {exc}")
    server = make_url(url)
    proxy = TcpProxy(server.host or "127.0.0.1", server.port or 5432)
    await proxy.start()
    yield server.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False), proxy
    await proxy.stop()
    await drop_postgres_database(url)


@pytest.fixture
async def processes() -> AsyncIterator[list[BotProcess]]:
    made: list[BotProcess] = []
    yield made
    for p in made:
        await p.stop(timeout=10)


async def test_30_second_outages_of_the_homeserver_and_the_database_and_default_rate_limits(
    homeserver: EmbeddedSynapse,
    two_homeservers: tuple[EmbeddedSynapse, EmbeddedSynapse],
    proxied_postgres: tuple[str, TcpProxy],
    processes: list[BotProcess],
    register: Callable[..., Any],
    user: Callable[..., Any],
    tmp_path: Path,
) -> None:
    db_url, proxy = proxied_postgres
    own_homeserver, limits_hs = two_homeservers
    # 1. A bot on its own homeserver (SQLite), and a bot on PostgreSQL through the proxy.
    hs_account = await asyncio.to_thread(own_homeserver.register, "oasis", "pw")
    on_own_hs = BotProcess(
        own_homeserver, hs_account, f"sqlite+aiosqlite:///{tmp_path / 'hs.db'}", tmp_path, name="hs"
    )
    pg_account: Account = await register("oasis")
    on_pg = BotProcess(homeserver, pg_account, db_url, tmp_path, name="pg")
    processes += [on_own_hs, on_pg]
    on_own_hs.start()
    on_pg.start()
    alice_account = await asyncio.to_thread(own_homeserver.register, "alice", "pw")
    alice = TestUser(own_homeserver, alice_account)
    await alice.start()
    bob: TestUser = await user("bob")
    stop_later: list[TestUser] = [alice]
    limited: App | None = None
    limited_task = None
    try:
        await on_own_hs.wait_role("active")
        await on_pg.wait_role("active")
        room_a = await room_with_bot(alice, on_own_hs.user_id)
        room_b = await room_with_bot(bob, on_pg.user_id)
        # 2. A third bot, in this process, on a Synapse with its default message limits.
        limited = App(
            bot_config(
                limits_hs,
                await asyncio.to_thread(limits_hs.register, "oasis", "pw"),
                f"sqlite+aiosqlite:///{tmp_path / 'limited.db'}",
                accueil={"enabled": False},
            )
        )
        limited_task = await run_app(limited)
        carol = TestUser(limits_hs, await asyncio.to_thread(limits_hs.register, "carol", "pw"))
        dan = TestUser(limits_hs, await asyncio.to_thread(limits_hs.register, "dan", "pw"))
        await carol.start()
        await dan.start()
        stop_later += [carol, dan]
        room_c = await room_with_bot(carol, limited.client.user_id, dan)

        mark_a, mark_b, mark_c = alice.mark(), bob.mark(), carol.mark()
        sent_a = [await alice.send(room_a, "!ping") for _ in range(3)]
        # Both outages start.
        await own_homeserver.stop()
        await proxy.cut()
        started = time.monotonic()
        # During them: bob writes to the bot whose database is gone; carol and dan burst.
        sent_b = [await bob.send(room_b, "!ping") for _ in range(3)]
        sent_c, sent_d = [], []
        for _ in range(7):
            sent_c.append(await carol.send(room_c, "!ping"))
            sent_d.append(await dan.send(room_c, "!ping"))
        await on_pg.wait_role("standby", ready=False, timeout=15)  # it stepped down
        await asyncio.sleep(max(0.0, OUTAGE - (time.monotonic() - started)))
        await own_homeserver.start()
        await proxy.start()
        back = time.monotonic()
        sent_a += [await alice.send(room_a, "!ping") for _ in range(2)]

        await on_pg.wait_role("active", timeout=30)
        await alice.wait_for(
            lambda s: len(replies_to(alice.seen[mark_a:], sent_a)) >= 5, since=mark_a, timeout=45
        )
        await bob.wait_for(
            lambda s: len(replies_to(bob.seen[mark_b:], sent_b)) >= 3, since=mark_b, timeout=30
        )
        resumed = time.monotonic() - back
        print(f"resumed {resumed:.1f} s after the outages")
        await carol.wait_for(
            lambda s: len(replies_to(carol.seen[mark_c:], sent_c + sent_d)) >= 14, since=mark_c, timeout=60
        )
        await asyncio.sleep(1.5)  # anything doubled would have come by now
        answered_once_in_order(alice.messages(sender=on_own_hs.user_id, since=mark_a), sent_a)
        answered_once_in_order(bob.messages(sender=on_pg.user_id, since=mark_b), sent_b)
        answered_once_in_order(carol.messages(sender=limited.client.user_id, since=mark_c), sent_c)
        answered_once_in_order(carol.messages(sender=limited.client.user_id, since=mark_c), sent_d)
        assert limited.sender.rate_limited > 0  # the limit was met, and waited out
        assert resumed < 30, f"resumed {resumed:.1f} s after the outages"
        assert "homeserver reachable again" in on_own_hs.log()
        assert "lock lost" in on_pg.log() and on_pg.log().count("active: this process holds the lock") == 2
    finally:
        if limited is not None and limited_task is not None:
            limited.request_stop()
            await limited_task
        for member in stop_later:
            await member.stop()
