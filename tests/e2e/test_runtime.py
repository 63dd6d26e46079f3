"""The runtime against a real Synapse: invitations, commands, help by role, DMs, restarts."""

from __future__ import annotations

import pytest

from tests.conftest import BotStarter
from tests.support.matrix import TestUser, room_with_bot


async def test_invite_ping_and_unknown_command(start_bot: BotStarter, user) -> None:
    bot = await start_bot()
    alice: TestUser = await user("alice")
    room = await room_with_bot(alice, bot.user_id)

    mark = alice.mark()
    await alice.send(room, "!ping")
    reply = await alice.wait_message(sender=bot.user_id, since=mark)
    assert "pong" in reply.body
    assert reply.content["msgtype"] == "m.notice"
    assert reply.content["m.mentions"] == {}

    mark = alice.mark()
    await alice.send(room, "!anuaire")
    reply = await alice.wait_message(sender=bot.user_id, since=mark)
    assert reply.body.startswith("Commande inconnue")

    mark = alice.mark()
    await alice.send(room, "//aide")
    reply = await alice.wait_message(sender=bot.user_id, since=mark)
    assert "!ping" in reply.body and "!langue" in reply.body

    # Not a command, a notice, an edit: no answer.
    mark = alice.mark()
    await alice.send(room, "bonjour à tous !")
    await alice.send(room, "!ping", msgtype="m.notice")
    assert await alice.quiet(sender=bot.user_id, since=mark, seconds=1.5) == []


@pytest.mark.parametrize("as_animator", [False, True])
async def test_help_depends_on_role(start_bot: BotStarter, user, as_animator: bool) -> None:
    from bot.registry import REGISTRY
    from bot.roles import Role

    restricted = [c for c in REGISTRY.unique_commands() if c.role >= Role.ANIMATOR and not c.hidden]
    bot = await start_bot()
    owner: TestUser = await user("owner")
    member: TestUser = await user("member")
    room = await room_with_bot(owner, bot.user_id, member)
    asker = owner if as_animator else member  # the creator outranks everyone (room v12)
    mark = asker.mark()
    await asker.send(room, "!aide")
    reply = await asker.wait_message(sender=bot.user_id, since=mark)
    expected = "animat" if as_animator else "membre"
    assert expected in reply.body
    for cmd in restricted:
        assert (f"!{cmd.name} " in reply.body) is as_animator


async def test_direct_chat_without_prefix(start_bot: BotStarter, user) -> None:
    bot = await start_bot()
    bob: TestUser = await user("bob")
    await room_with_bot(bob, bot.user_id)  # a member of the network
    room = await bob.create_room(None, invite=[bot.user_id], is_direct=True)
    await bob.wait_for(
        lambda s: (
            s.room_id == room
            and s.type == "m.room.member"
            and s.event.get("state_key") == bot.user_id
            and s.content.get("membership") == "join"
        )
    )
    mark = bob.mark()
    await bob.send(room, "ping")
    reply = await bob.wait_message(sender=bot.user_id, since=mark)
    assert "pong" in reply.body
    # No reply relation in a direct chat.
    assert "m.relates_to" not in reply.content


async def test_restart_answers_missed_commands_once(start_bot: BotStarter, user) -> None:
    bot = await start_bot()
    carol: TestUser = await user("carol")
    room = await room_with_bot(carol, bot.user_id)
    mark = carol.mark()
    await carol.send(room, "!ping")
    await carol.wait_message(sender=bot.user_id, since=mark)
    await bot.stop()

    mark = carol.mark()
    await carol.send(room, "!langue")  # sent while the bot is down
    bot2 = await start_bot(account=bot.account, db_url=bot.db_url)  # type: ignore[attr-defined]
    reply = await carol.wait_message(sender=bot2.user_id, since=mark)
    assert "français" in reply.body
    extra = await carol.quiet(sender=bot2.user_id, since=mark, seconds=2)
    assert len(extra) == 1, [m.body for m in extra]  # the missed one, and not the earlier !ping


async def test_command_in_a_thread_is_answered_in_the_thread(start_bot: BotStarter, user) -> None:
    bot = await start_bot()
    alice: TestUser = await user("alice")
    room = await room_with_bot(alice, bot.user_id)
    root = await alice.send(room, "Sujet : prochaine rencontre")
    mark = alice.mark()
    asked = await alice.send(
        room, "!ping", extra={"m.relates_to": {"rel_type": "m.thread", "event_id": root}}
    )
    reply = await alice.wait_message(sender=bot.user_id, since=mark)
    relation = reply.content["m.relates_to"]
    assert relation["rel_type"] == "m.thread" and relation["event_id"] == root
    assert relation["m.in_reply_to"]["event_id"] == asked
