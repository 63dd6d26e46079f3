"""Who is in the network, against the real Synapse (issue 11): roles come from the network's
rooms only, a room outside it gets one polite answer and nothing else, and someone in none
of its rooms may only ask for help, their language and their own data."""

from __future__ import annotations

import asyncio

import pytest

from tests.conftest import BotStarter, RunningBot
from tests.support.matrix import TestUser, room_with_bot

PIRATE = "https://pirate.example/arnaque"


def nb(text: str) -> str:
    return text.replace("\u00a0", " ").replace("\u202f", " ")


async def direct_chat(person: TestUser, bot: RunningBot) -> str:
    dm = await person.create_room(None, invite=[bot.user_id], is_direct=True)
    await person.wait_for(
        lambda s: (
            s.room_id == dm
            and s.type == "m.room.member"
            and s.event.get("state_key") == bot.user_id
            and s.content.get("membership") == "join"
        )
    )
    return dm


async def ask(person: TestUser, bot: RunningBot, room: str, text: str, contains: str | None = None) -> str:
    mark = person.mark()
    await person.send(room, text)
    reply = await person.wait_message(sender=bot.user_id, room_id=room, since=mark, contains=contains)
    return nb(reply.body)


async def test_a_side_room_moderator_cannot_edit_someone_elses_signal(start_bot: BotStarter, user) -> None:
    # The review's exploit: Mallory, a member, makes her own room, invites the bot and so
    # moderates a room it is in; then edits Dominique's signal to point elsewhere. Here
    # invitations are even widened to the whole server, so the bot does join her room.
    bot = await start_bot(invites={"allow": ["localhost"]})
    alice = await user("alice", displayname="Alice")  # the network room's animator
    dominique = await user("dominique", displayname="Dominique")
    mallory = await user("mallory", displayname="Mallory")
    room = await room_with_bot(alice, bot.user_id, dominique, mallory)
    shared = await ask(
        dominique,
        bot,
        room,
        "!signal Les assureurs quittent le littoral | https://exemple.fr/assureurs | Deux assureurs partent",
        contains="Signal #1",
    )
    assert "Signal #1 enregistré" in shared

    side = await mallory.create_room("Le salon de Mallory", invite=[bot.user_id], network=False)
    polite = await mallory.wait_message(sender=bot.user_id, room_id=side, contains="ne fait pas partie")
    assert nb(polite.body) == (
        "Bonjour ! Ce salon ne fait pas partie du réseau OASIS : je n'y réponds pas. "
        "Pour me parler, écrivez-moi en discussion privée ou dans un salon du réseau."
    )
    mark = mallory.mark()
    await mallory.send(side, f"!signal modifier 1 lien {PIRATE}")
    await mallory.send(side, "!aide")

    dm = await direct_chat(mallory, bot)
    refused = await ask(mallory, bot, dm, f"!signal modifier 1 lien {PIRATE}")
    assert "n'est pas le vôtre" in refused
    assert await mallory.quiet(sender=bot.user_id, since=mark, room_id=side, seconds=1) == []
    assert len(mallory.messages(sender=bot.user_id, room_id=side)) == 1  # the polite answer, once

    shown = await ask(dominique, bot, room, "!signal 1", contains="Partagé par")
    assert "exemple.fr/assureurs" in shown and "pirate" not in shown


async def test_by_default_a_member_cannot_bring_the_bot_into_her_room(start_bot: BotStarter, user) -> None:
    bot = await start_bot()
    mallory = await user("mallory")
    await room_with_bot(mallory, bot.user_id)  # she is in the network
    side = await mallory.create_room("Salon annexe", invite=[bot.user_id], network=False)
    dm = await direct_chat(mallory, bot)  # a direct chat, from her server: accepted
    assert "pong" in await ask(mallory, bot, dm, "!ping")
    await asyncio.sleep(1)
    assert side not in bot.app.client.nio.rooms
    assert mallory.messages(sender=bot.user_id, room_id=side) == []


async def test_someone_outside_the_network_in_a_direct_chat(start_bot: BotStarter, user) -> None:
    bot = await start_bot()
    alice = await user("alice", displayname="Alice")
    room = await room_with_bot(alice, bot.user_id)
    eve = await user("eve", displayname="Eve")  # on the same server, in no network room
    dm = await direct_chat(eve, bot)

    refused = await ask(eve, bot, dm, "!annuaire Alice")
    assert refused.startswith("Vous n'êtes dans aucun salon du réseau OASIS : ici, je ne réponds qu'à ")
    for name in ("!aide", "!langue", "!mes-donnees", "!oublier-moi"):
        assert name in refused
    assert "Alice" not in refused

    overview = await ask(eve, bot, dm, "!aide")
    assert "(vous êtes hors du réseau)" in overview
    listed = {line.split(" — ")[0].strip("• ").split()[0] for line in overview.splitlines() if " — " in line}
    assert listed == {"!aide", "!langue", "!mes-donnees", "!oublier-moi"}
    assert "Je vous écris en français" in await ask(eve, bot, dm, "!langue")

    # Once in a room of the network, she is a member, in her direct chat too.
    await alice.invite(room, eve.user_id)
    await eve.join(room)
    await asyncio.sleep(0.5)  # the bot sees her join in its next sync
    assert "aucun salon du réseau" not in await ask(eve, bot, dm, "!annuaire Alice")


async def test_a_network_room_the_bot_is_not_in_is_said_at_start(
    start_bot: BotStarter, user, caplog: pytest.LogCaptureFixture
) -> None:
    alice = await user("alice")
    elsewhere = await alice.create_room("Pas encore invité", network=False)
    bot = await start_bot(bot={"rooms": [elsewhere]})
    assert f"not in the network's room(s) {elsewhere}: invite the bot there" in caplog.text
    # Invited there by anyone: it joins, and the room is served.
    await alice.invite(elsewhere, bot.user_id)
    await alice.wait_for(
        lambda s: (
            s.room_id == elsewhere
            and s.type == "m.room.member"
            and s.event.get("state_key") == bot.user_id
            and s.content.get("membership") == "join"
        )
    )
    assert "pong" in await ask(alice, bot, elsewhere, "!ping")
