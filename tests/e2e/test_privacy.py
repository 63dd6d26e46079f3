"""Personal data against the real Synapse: `!mes-donnees` sends a JSON file of what the
bot keeps in a direct chat; `!oublier-moi` asks first, then erases it all."""

from __future__ import annotations

import json

from tests.conftest import BotStarter
from tests.support.matrix import Seen, TestUser, room_with_bot


def nb(text: str) -> str:
    return text.replace("\u00a0", " ").replace("\u202f", " ")


async def exported(member: TestUser, bot_id: str, since: int) -> dict:
    """The JSON file the bot sends to `member`'s direct chat after `since`."""
    file: Seen = await member.wait_for(
        lambda s: s.type == "m.room.message" and s.sender == bot_id and s.content.get("msgtype") == "m.file",
        since=since,
    )
    assert file.content["info"]["mimetype"] == "application/json"
    return json.loads(await member.download(file.content))


async def test_export_then_forget(start_bot: BotStarter, user) -> None:
    bot = await start_bot()
    alice: TestUser = await user("alice", auto_join_from=bot.user_id)
    room = await room_with_bot(alice, bot.user_id)

    mark = alice.mark()
    await alice.send(room, "!signal Canicule précoce | https://exemple.fr/canicule | Trois alertes en mai")
    await alice.wait_message(sender=bot.user_id, room_id=room, since=mark, contains="enregistré")

    mark = alice.mark()
    await alice.send(room, "!mes-donnees")
    said = await alice.wait_message(sender=bot.user_id, room_id=room, since=mark)
    assert "message privé" in nb(said.body)
    data = await exported(alice, bot.user_id, mark)
    assert data["matrix_id"] == alice.user_id
    titles = [s["title"] for s in data["donnees"]["signaux"]["signals"]]
    assert titles == ["Canicule précoce"]
    caption = await alice.wait_message(sender=bot.user_id, since=mark, contains="tout ce que je garde")
    assert caption.room_id != room  # the caption and the file are in the direct chat
    assert "les signaux que vous avez partagés" in nb(caption.body)

    # First step: a warning that lists what will go, and how to confirm. Nothing erased.
    mark = alice.mark()
    await alice.send(room, "!oublier-moi")
    warning = await alice.wait_message(sender=bot.user_id, room_id=room, since=mark)
    assert "effacer définitivement" in nb(warning.body)
    assert "!oublier-moi confirmer" in nb(warning.body)

    mark = alice.mark()
    await alice.send(room, "!oublier-moi confirmer")
    done = await alice.wait_message(sender=bot.user_id, room_id=room, since=mark)
    assert nb(done.body).startswith("C'est fait. J'ai effacé :")
    assert "vos soutiens (1 enregistrement)" in nb(done.body)

    # What is left: no signal, nothing from the signals feature.
    mark = alice.mark()
    await alice.send(room, "!mes-donnees")
    data = await exported(alice, bot.user_id, mark)
    assert data["donnees"]["signaux"] == {"signals": [], "comments": [], "supports": []}
    mark = alice.mark()
    await alice.send(room, "!signaux canicule")
    answer = await alice.wait_message(sender=bot.user_id, room_id=room, since=mark)
    assert "Canicule précoce" not in answer.body
