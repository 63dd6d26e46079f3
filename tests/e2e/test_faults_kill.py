"""`kill -9` and takeovers against the real Synapse, the bot run as operators run it
(`oasis-bot run`, its own process): every command answered exactly once, in order per
member, every scheduled post sent exactly once.

The bot's sending is slowed by a per-user rate limit (the Synapse admin API), so that the
kill lands while it is still answering or posting, not after."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.homeserver import Account, EmbeddedSynapse, _http_json
from tests.support.databases import create_postgres_database, drop_postgres_database, postgres_required
from tests.support.matrix import Seen, TestUser, replies_to, room_with_bot
from tests.support.process import BotProcess

PARIS = ZoneInfo("Europe/Paris")
pytestmark = pytest.mark.slow


async def limit_sending(
    hs: EmbeddedSynapse, admin: Account, user_id: str, per_second: float, burst: int
) -> None:
    await asyncio.to_thread(
        _http_json,
        "POST",
        f"{hs.url}/_synapse/admin/v1/users/{user_id}/override_ratelimit",
        {"messages_per_second": per_second, "burst_count": burst},
        admin.access_token,
    )


@pytest.fixture
async def admin(register: Callable[..., Any], homeserver: EmbeddedSynapse) -> Account:
    return await asyncio.to_thread(homeserver.register, f"admin{int(time.time() * 1000)}", "pw", admin=True)


@pytest.fixture
async def processes() -> AsyncIterator[list[BotProcess]]:
    made: list[BotProcess] = []
    yield made
    for p in made:
        await p.stop(timeout=10)


@pytest.fixture
async def pg_database() -> AsyncIterator[str]:
    try:
        url = await create_postgres_database()
    except Exception as exc:
        if postgres_required():
            pytest.fail(f"PostgreSQL unavailable: {exc}")
        pytest.skip(f"PostgreSQL unavailable: {exc}")
    yield url
    await drop_postgres_database(url)


def answered_once_in_order(seen: list[Seen], sent: list[str]) -> None:
    answered = replies_to(seen, sent)
    doubles = [e for e, n in Counter(answered).items() if n > 1]
    assert not doubles, f"answered twice: {doubles}"
    assert answered == sent, f"{len(answered)} of {len(sent)} answered, or out of order"


async def test_kill_9_during_a_burst_and_a_welcome_then_restart(
    homeserver: EmbeddedSynapse,
    register: Callable[..., Any],
    user: Callable[..., Any],
    admin: Account,
    processes: list[BotProcess],
    tmp_path: Path,
) -> None:
    account = await register("oasis", displayname="OASIS")
    bot = BotProcess(
        homeserver,
        account,
        f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}",
        tmp_path,
        accueil={"enabled": True, "batch_seconds": 1, "batch_max_seconds": 2, "dm_onboarding": False},
        evenements={"rappels": ["20s"]},
    )
    processes.append(bot)
    bot.start()
    await bot.wait_role("active")
    alice: TestUser = await user("alice")
    bob: TestUser = await user("bob")
    room = await room_with_bot(alice, bot.user_id, bob)
    await limit_sending(homeserver, admin, bot.user_id, per_second=5, burst=1)

    # Newcomers arrive just before the burst: their welcome, a scheduled post (the batch
    # job, a second later), is queued among the answers.
    carol: TestUser = await user("carol")
    dan: TestUser = await user("dan")
    for newcomer in (carol, dan):
        await alice.invite(room, newcomer.user_id)
        await newcomer.join(room)
    mark = alice.mark()
    sent_a, sent_b = [], []
    for _ in range(10):
        sent_a.append(await alice.send(room, "!ping"))
        sent_b.append(await bob.send(room, "!ping"))
    await alice.wait_for(lambda s: len(replies_to(alice.seen[mark:], sent_a + sent_b)) >= 2, since=mark)
    at_kill = len(replies_to(alice.messages(sender=bot.user_id, since=mark), sent_a + sent_b))
    bot.kill()
    assert 0 < at_kill < 20  # the kill landed mid-burst

    bot.start()
    await bot.wait_role("active")
    await alice.wait_for(
        lambda s: len(replies_to(alice.seen[mark:], sent_a + sent_b)) >= 20, since=mark, timeout=60
    )
    await alice.wait_for(
        lambda s: s.sender == bot.user_id and dan.user_id in str(s.content.get("m.mentions")), timeout=30
    )
    await asyncio.sleep(2)  # anything doubled would have come by now
    seen = alice.messages(sender=bot.user_id, since=mark)
    answered_once_in_order(seen, sent_a)
    answered_once_in_order(seen, sent_b)
    # What an operator's monitoring sees of it.
    health = bot.health()
    assert health is not None and health["status"] == "ok" and health["role"] == "active"
    assert health["outbox_backlog"] == 0 and health["last_sync_age_s"] < 90
    metrics = await asyncio.to_thread(bot.metrics)
    ping_ok = [
        line
        for line in metrics.splitlines()
        if line.startswith('oasis_commands_total{command="ping",outcome="ok"}')
    ]
    assert ping_ok and float(ping_ok[0].split()[-1]) >= 1  # this process's share of the burst
    for name in (
        "oasis_sync_age_seconds",
        "oasis_outbox_pending",
        "oasis_scheduled_jobs",
        "oasis_database_latency_seconds",
        "oasis_event_lag_seconds_bucket",
        "process_resident_memory_bytes",
    ):
        assert name in metrics, name
    # A webinar's reminder and a scheduled announcement: the process is killed the moment
    # the first of them shows; after the restart each is posted exactly once.
    mark = alice.mark()
    await alice.send(room, "!webinaire ajouter dans 26 secondes | Point d'étape | https://visio.exemple.fr/x")
    await alice.send(room, "!annonce planifier dans 7 secondes | Le point d'étape commence bientôt")
    await alice.send(room, "!participer")
    await alice.wait_for(
        lambda s: (
            s.sender == bot.user_id and (s.body.startswith("⏰ Rappel") or "commence bientôt" in s.body)
        ),
        since=mark,
        timeout=30,
    )
    bot.kill()
    bot.start()
    await bot.wait_role("active")
    await alice.wait_for(
        lambda s: (
            any(m.body.startswith("⏰ Rappel") for m in alice.messages(sender=bot.user_id, since=mark))
            and any("commence bientôt" in m.body for m in alice.messages(sender=bot.user_id, since=mark))
        ),
        since=mark,
        timeout=30,
    )
    await asyncio.sleep(2)
    scheduled = [m.body for m in alice.messages(sender=bot.user_id, since=mark)]
    assert sum(b.startswith("⏰ Rappel") for b in scheduled) == 1, scheduled
    assert sum("commence bientôt" in b for b in scheduled) == 1, scheduled

    welcomed = Counter(
        u
        for s in alice.messages(sender=bot.user_id)
        if "Bienvenue" in s.body
        for u in s.content["m.mentions"]["user_ids"]
    )
    assert welcomed == {bob.user_id: 1, carol.user_id: 1, dan.user_id: 1}  # each once
    # Its log (INFO, three runs) names no secret and nothing anyone typed.
    log_text = bot.log()
    for never in (account.password, "!ping", "Point d'étape", "visio.exemple.fr"):
        assert never not in log_text, never


def digest_moment(now: datetime) -> dict[str, Any]:
    """A `[digest]` section whose slot was a minute ago (posted at start, within grace)."""
    slot = (now - timedelta(minutes=1)).astimezone(PARIS)
    days = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")
    return {"day": days[slot.weekday()], "hour": slot.strftime("%H:%M"), "grace_hours": 2}


async def test_standby_takes_over_a_killed_active_process_mid_digest_and_mid_burst(
    homeserver: EmbeddedSynapse,
    register: Callable[..., Any],
    user: Callable[..., Any],
    admin: Account,
    pg_database: str,
    processes: list[BotProcess],
    tmp_path: Path,
) -> None:
    """Two processes on one PostgreSQL: the active one is killed while posting the weekly
    digest and answering a burst; the standby takes over within 30 s and finishes both,
    nothing lost and nothing twice."""
    account = await register("oasis", displayname="OASIS")
    first = BotProcess(homeserver, account, pg_database, tmp_path, name="first")
    processes.append(first)
    first.start()
    await first.wait_role("active")
    alice: TestUser = await user("alice")
    rooms = [await room_with_bot(alice, first.user_id, name=f"Veille {i}") for i in (1, 2)]
    mark = alice.mark()
    for i in range(3):
        await alice.send(rooms[0], f"!signal Signal numéro {i} | https://exemple.fr/s{i} | vu sur le terrain")
    await alice.wait_for(
        lambda s: s.sender == first.user_id and "Signal #3" in s.body, since=mark, timeout=20
    )
    await first.stop()

    # Both start with the digest due: whichever is active posts it at start.
    digest = {"rooms": rooms, **digest_moment(datetime.now(PARIS))}
    second = BotProcess(homeserver, account, pg_database, tmp_path, name="second", digest=digest)
    processes.append(second)
    first.sections["digest"] = digest
    first.write_config()
    await limit_sending(homeserver, admin, account.user_id, per_second=5, burst=1)
    mark = alice.mark()
    first.start()
    await first.wait_role("active")
    second.start()
    await second.wait_role("standby")
    sent = [await alice.send(rooms[1], "!ping") for _ in range(10)]
    await alice.wait_for(
        lambda s: s.sender == account.user_id and "digest de la semaine" in s.body, since=mark, timeout=30
    )
    first.kill()
    killed = time.monotonic()
    await second.wait_role("active", timeout=40)
    takeover = time.monotonic() - killed
    assert takeover <= 30, f"takeover took {takeover:.1f} s"

    def threads(seen: list[Seen]) -> list[Seen]:
        return [s for s in seen if (s.content.get("m.relates_to") or {}).get("rel_type") == "m.thread"]

    await alice.wait_for(
        lambda s: (
            len(threads(alice.messages(sender=account.user_id, since=mark))) >= 6
            and len(replies_to(alice.seen[mark:], sent)) >= 10
        ),
        since=mark,
        timeout=60,
    )
    await asyncio.sleep(3)  # the thread job retries every 3 s: a double would show now
    seen = alice.messages(sender=account.user_id, since=mark)
    digests = Counter(s.room_id for s in seen if "digest de la semaine" in s.body)
    assert digests == {rooms[0]: 1, rooms[1]: 1}
    lines = Counter((s.room_id, s.body) for s in threads(seen))
    assert len(lines) == 6 and set(lines.values()) == {1}, lines
    answered_once_in_order(seen, sent)

    # The killed one, restarted, stands by.
    first.start()
    await first.wait_role("standby")
    assert "active: this process holds the lock" in second.log()
