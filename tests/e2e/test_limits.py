"""Limits on every input, against the real Synapse: one hostile message costs its sender a
short answer, never a stall of everyone else nor a post the homeserver refuses."""

from __future__ import annotations

from tests.conftest import BotStarter
from tests.support.matrix import TestUser, room_with_bot


async def test_a_57_kb_search_is_refused_at_once_and_others_are_answered(start_bot: BotStarter, user) -> None:
    bot = await start_bot()
    alice: TestUser = await user("alice")
    bob: TestUser = await user("bob")
    room = await room_with_bot(alice, bot.user_id, bob)

    long_search = "!annuaire " + "xy " * 19_000
    mark = alice.mark()
    await alice.send(room, long_search)
    await bob.send(room, "!ping")
    answer = await alice.wait_message(sender=bot.user_id, room_id=room, since=mark, contains="trop long")
    said = answer.body.replace("\u202f", " ")
    assert f"{len(long_search.strip()):,}".replace(",", " ") in said  # its length
    assert "5 000" in said  # the limit
    await alice.wait_message(sender=bot.user_id, room_id=room, since=mark, contains="pong")


async def test_an_unknown_command_asked_of_aide_is_echoed_cut(start_bot: BotStarter, user) -> None:
    bot = await start_bot()
    alice: TestUser = await user("alice")
    room = await room_with_bot(alice, bot.user_id)
    mark = alice.mark()
    await alice.send(room, "!aide " + "z" * 4_900)
    answer = await alice.wait_message(sender=bot.user_id, room_id=room, since=mark, contains="zzzz")
    assert len(answer.body) < 400
    assert "…" in answer.body


async def test_a_burst_of_30_is_answered_a_flood_is_told_once_others_go_on(
    start_bot: BotStarter, user
) -> None:
    bot = await start_bot()
    alice: TestUser = await user("alice")
    bob: TestUser = await user("bob")
    room = await room_with_bot(alice, bot.user_id, bob)
    mark = alice.mark()
    for _ in range(90):
        await alice.send(room, "!ping")
    told = await alice.wait_message(
        sender=bot.user_id, room_id=room, since=mark, contains="pause", timeout=60
    )
    assert "secondes" in told.body
    bob_mark = bob.mark()
    await bob.send(room, "!ping")  # Bob is not held back by Alice's flood
    await bob.wait_message(sender=bot.user_id, room_id=room, since=bob_mark, contains="pong")
    await alice.quiet(sender=bot.user_id, since=mark, seconds=2)
    said = [m.body for m in alice.messages(sender=bot.user_id, room_id=room, since=mark)]
    pongs_to_alice = [b for b in said if "pong" in b][:-1]  # the last one is Bob's
    assert 60 <= len(pongs_to_alice) < 90  # the burst answered whole, the flood held back
    assert sum("pause" in b for b in said) == 1  # told once


async def test_a_flood_in_a_direct_chat_does_not_delay_another_room(
    start_bot: BotStarter, user, homeserver, register
) -> None:
    """The bot limited by Synapse to 1 message/s: a member's 12 pings in their direct chat
    are all answered, and another member's ping in a room is answered in between."""
    import asyncio

    from bot.homeserver import _http_json

    bot = await start_bot()
    admin = await asyncio.to_thread(homeserver.register, f"admin{id(bot)}", "pw", admin=True)
    await asyncio.to_thread(
        _http_json,
        "POST",
        f"{homeserver.url}/_synapse/admin/v1/users/{bot.user_id}/override_ratelimit",
        {"messages_per_second": 1, "burst_count": 1},
        admin.access_token,
    )
    alice: TestUser = await user("alice")
    bob: TestUser = await user("bob")
    room = await room_with_bot(bob, bot.user_id, alice)  # both are members of the network
    dm = await alice.create_room(None, invite=[bot.user_id], is_direct=True)
    await alice.wait_for(
        lambda s: (
            s.room_id == dm
            and s.event.get("state_key") == bot.user_id
            and s.content.get("membership") == "join"
        )
    )
    await asyncio.sleep(2)  # Synapse's bucket for the bot refills
    alice_mark, bob_mark = alice.mark(), bob.mark()
    for _ in range(12):
        await alice.send(dm, "!ping")
    await alice.wait_message(sender=bot.user_id, room_id=dm, since=alice_mark, contains="pong", timeout=30)
    await bob.send(room, "!ping")
    await bob.wait_message(sender=bot.user_id, room_id=room, since=bob_mark, contains="pong", timeout=30)
    answered_before_bob = len(alice.messages(sender=bot.user_id, room_id=dm, since=alice_mark))
    assert answered_before_bob < 8, f"Bob waited for {answered_before_bob} of Alice's 12 answers"
    await alice.wait_for(
        lambda s: len(alice.messages(sender=bot.user_id, room_id=dm, since=alice_mark)) >= 12,
        since=alice_mark,
        timeout=60,
    )
