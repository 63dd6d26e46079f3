"""One direct chat per member, against the real Synapse: a direct chat the member opened
is the one the bot writes to on its own, before and after `!oublier-moi`; what is said
there makes sense there."""

from __future__ import annotations

import asyncio

from tests.conftest import BotStarter
from tests.support.matrix import TestUser, room_with_bot


def nb(text: str) -> str:
    return text.replace("\u00a0", " ").replace("\u202f", " ")


async def test_the_direct_chat_the_member_opened_is_reused(start_bot: BotStarter, user) -> None:
    bot = await start_bot()
    alice: TestUser = await user("alice")  # no auto-join: a new room from the bot stays an invite
    room = await room_with_bot(alice, bot.user_id)
    dm = await alice.create_room(None, invite=[bot.user_id], is_direct=True)
    await alice.wait_for(
        lambda s: (
            s.room_id == dm
            and s.event.get("state_key") == bot.user_id
            and s.content.get("membership") == "join"
        )
    )

    # Something kept about alice (her profile), so that !mes-donnees has a file to send.
    for command in (
        "!profil type caf",
        "!mes-donnees",
        "!oublier-moi confirmer",
        "!profil type caf",
        "!mes-donnees",
    ):
        mark = alice.mark()
        await alice.send(room, command)
        await alice.wait_message(sender=bot.user_id, room_id=room, since=mark)
    # Both exports went to the direct chat alice opened, none to a new one.
    files = [s for s in alice.messages(sender=bot.user_id) if s.content.get("msgtype") == "m.file"]
    deadline = asyncio.get_running_loop().time() + 15
    while len(files) < 2 and asyncio.get_running_loop().time() < deadline:
        await asyncio.sleep(0.2)
        files = [s for s in alice.messages(sender=bot.user_id) if s.content.get("msgtype") == "m.file"]
    assert [f.room_id for f in files] == [dm, dm]
    assert not alice.client.invited_rooms  # the bot never opened a second one

    # A signal recorded in the direct chat: no « react 👍 to this message » that only
    # alice could see; the command to support it instead.
    mark = alice.mark()
    await alice.send(dm, "!signal Canicule précoce | https://exemple.fr/canicule-dm | Trois alertes en mai")
    said = await alice.wait_message(sender=bot.user_id, room_id=dm, since=mark, contains="enregistré")
    assert "réagissant" not in nb(said.body)
    assert "pourront le soutenir avec !signal soutenir" in nb(said.body)
    mark = alice.mark()
    await alice.send(room, "!signal Canicule tardive | https://exemple.fr/canicule-salon | En octobre")
    said = await alice.wait_message(sender=bot.user_id, room_id=room, since=mark, contains="enregistré")
    assert "en réagissant 👍 à ce message" in nb(said.body)
