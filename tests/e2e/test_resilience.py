"""Nothing lost, nothing repeated: gappy syncs, restarts, rate limits, outages, slow
commands, invitations from strangers — against a real Synapse."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.context import Context, Reply
from bot.homeserver import EmbeddedSynapse, _http_json
from bot.registry import REGISTRY, command
from tests.conftest import BotStarter, bot_config, run_app
from tests.support.matrix import TestUser, replies_to, room_with_bot

if REGISTRY.find("test-lent") is None:

    @command("test-lent", help="general.ping.help", hidden=True)
    async def _slow(ctx: Context, secondes: int = 3) -> Reply:
        """A deliberately slow command (test only)."""
        await asyncio.sleep(secondes)
        return Reply("general.ping.pong")


async def test_commands_sent_while_down_beyond_the_timeline_limit(
    start_bot: BotStarter, user, caplog: pytest.LogCaptureFixture
) -> None:
    """60 commands arrive while the bot is stopped: more than one sync's timeline holds,
    so the bot back-fills the gap, and answers each one once, in order."""
    bot = await start_bot()
    alice: TestUser = await user("alice")
    room = await room_with_bot(alice, bot.user_id)
    await bot.stop()
    sent = [await alice.send(room, "!ping") for _ in range(60)]
    caplog.set_level("INFO", logger="bot.sync")
    mark = alice.mark()
    bot2 = await start_bot(account=bot.account, db_url=bot.db_url)  # type: ignore[attr-defined]
    await alice.wait_for(lambda s: len(replies_to(alice.seen[mark:], sent)) >= 60, since=mark, timeout=60)
    await bot2.idle()
    await asyncio.sleep(1)
    answered = replies_to(alice.messages(sender=bot2.user_id, since=mark), sent)
    assert answered == sent  # each once, in the order sent
    assert "missed events fetched" in caplog.text  # the gap was back-filled


async def test_restart_reuses_the_device(start_bot: BotStarter, user, homeserver: EmbeddedSynapse) -> None:
    bot = await start_bot()
    device = bot.app.client.nio.device_id
    token = bot.app.client.nio.access_token
    await bot.stop()
    bot2 = await start_bot(account=bot.account, db_url=bot.db_url)  # type: ignore[attr-defined]
    assert bot2.app.client.nio.device_id == device
    answer = await asyncio.to_thread(
        _http_json, "GET", homeserver.url + "/_matrix/client/v3/devices", None, token
    )
    devices = answer["devices"]
    # The registration made one device, the bot's first login one more; no more after.
    assert len(devices) == 2


async def test_slow_command_blocks_nobody_else(start_bot: BotStarter, user) -> None:
    bot = await start_bot()
    alice: TestUser = await user("alice")
    bob: TestUser = await user("bob")
    room = await room_with_bot(alice, bot.user_id, bob)
    mark = alice.mark()
    slow = await alice.send(room, "!test-lent 3")
    after = await alice.send(room, "!ping")
    quick = await bob.send(room, "!ping")
    await alice.wait_for(lambda s: len(replies_to(alice.seen[mark:], [slow, after, quick])) >= 3, since=mark)
    order = replies_to(alice.messages(sender=bot.user_id, since=mark), [slow, after, quick])
    assert order.index(quick) < order.index(slow)  # bob was not kept waiting
    assert order.index(slow) < order.index(after)  # alice's commands answered in order


async def test_invitation_from_a_stranger_is_refused(start_bot: BotStarter, user) -> None:
    bot = await start_bot(invites={"allow": ["@nobody:localhost"]})
    mallory: TestUser = await user("mallory")
    room = await mallory.create_room("Pas invité", invite=[bot.user_id], network=False)
    await asyncio.sleep(2.5)
    assert room not in bot.app.client.nio.rooms


async def test_survives_a_homeserver_outage(start_bot: BotStarter, user, homeserver: EmbeddedSynapse) -> None:
    bot = await start_bot()
    alice: TestUser = await user("alice")
    room = await room_with_bot(alice, bot.user_id)
    await homeserver.stop()
    await asyncio.sleep(2)
    await homeserver.start()
    mark = alice.mark()
    await alice.send(room, "!ping")
    reply = await alice.wait_message(sender=bot.user_id, since=mark, timeout=90)
    assert "pong" in reply.body


# --- rate limits: a homeserver of its own, strict for the bot --------------------------

STRICT = {"rc_message": {"per_second": 1, "burst_count": 3}}


@pytest.fixture(scope="module")
async def strict_homeserver(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[EmbeddedSynapse]:
    from bot.homeserver import RELAXED_LIMITS

    hs = EmbeddedSynapse(tmp_path_factory.mktemp("strict"), rate_limits={**RELAXED_LIMITS, **STRICT})
    await hs.start()
    yield hs
    await hs.stop()


async def test_rate_limited_replies_all_arrive_in_order(
    strict_homeserver: EmbeddedSynapse, tmp_path: Path
) -> None:
    from bot.app import App

    hs = strict_homeserver
    bot_account = await asyncio.to_thread(hs.register, "oasis", "pw")
    member_account = await asyncio.to_thread(hs.register, "alice", "pw")
    admin = await asyncio.to_thread(hs.register, "admin", "pw", admin=True)
    # Only the bot is limited: lift the member's limit so the test measures the bot.
    await asyncio.to_thread(
        _http_json,
        "POST",
        f"{hs.url}/_synapse/admin/v1/users/{member_account.user_id}/override_ratelimit",
        {"messages_per_second": 0, "burst_count": 0},
        admin.access_token,
    )
    app = App(bot_config(hs, bot_account, f"sqlite+aiosqlite:///{tmp_path / 'rl.db'}"))
    task = await run_app(app)
    alice = TestUser(hs, member_account)
    await alice.start()
    try:
        room = await alice.create_room("Limites", invite=[bot_account.user_id])
        await alice.wait_for(
            lambda s: (
                s.type == "m.room.member"
                and s.event.get("state_key") == bot_account.user_id
                and s.content.get("membership") == "join"
            )
        )
        mark = alice.mark()
        sent = [await alice.send(room, "!ping") for _ in range(8)]
        await alice.wait_for(lambda s: len(replies_to(alice.seen[mark:], sent)) >= 8, since=mark, timeout=60)
        await asyncio.sleep(1)
        assert replies_to(alice.messages(sender=bot_account.user_id, since=mark), sent) == sent
        assert app.sender.rate_limited > 0  # the limit was really met, and waited out
    finally:
        app.request_stop()
        await task
        await alice.stop()


async def test_stop_finishes_the_command_in_hand_and_restart_repeats_nothing(
    start_bot: BotStarter, user
) -> None:
    bot = await start_bot()
    alice: TestUser = await user("alice")
    room = await room_with_bot(alice, bot.user_id)
    mark = alice.mark()
    slow = await alice.send(room, "!test-lent 2")
    await asyncio.sleep(1)  # the command is being handled
    await bot.stop()  # as on SIGTERM
    await alice.wait_for(lambda s: bool(replies_to([s], [slow])), since=mark)
    bot2 = await start_bot(account=bot.account, db_url=bot.db_url)  # type: ignore[attr-defined]
    await bot2.idle()
    replies = await alice.quiet(sender=bot.user_id, since=mark, seconds=2)
    assert replies_to(replies, [slow]) == [slow]  # answered once, before the stop


async def test_kicked_from_a_room_goes_on_elsewhere(
    start_bot: BotStarter, user, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("WARNING", logger="bot.sync")
    bot = await start_bot()
    alice: TestUser = await user("alice")
    first = await room_with_bot(alice, bot.user_id)
    second = await room_with_bot(alice, bot.user_id)
    await alice.client.room_kick(first, bot.user_id, reason="test")
    mark = alice.mark()
    await alice.send(second, "!ping")
    reply = await alice.wait_message(sender=bot.user_id, since=mark)
    assert reply.room_id == second
    assert f"no longer in room {first} (kicked by {alice.user_id})" in caplog.text
