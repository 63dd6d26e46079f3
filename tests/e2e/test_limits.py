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
