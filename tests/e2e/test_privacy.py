"""Personal data against the real Synapse: `!mes-donnees` sends a JSON file of what the
bot keeps in a direct chat; `!oublier-moi` asks first, then erases it all."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import BotStarter
from tests.support.matrix import Seen, TestUser, room_with_bot
from tests.support.traces import scan


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
    assert data["identifiant_matrix"] == alice.user_id
    titles = [s["titre"] for s in data["donnees"]["signaux"]["signaux"]]
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
    assert "digests publiés) (1 enregistrement)" in nb(done.body)

    # What is left: nothing (the command being answered does not count), so no file.
    mark = alice.mark()
    await alice.send(room, "!mes-donnees")
    said = await alice.wait_message(sender=bot.user_id, room_id=room, since=mark)
    assert nb(said.body) == "Je ne garde rien sur vous."
    await bot.idle()
    assert not [
        s for s in alice.messages(sender=bot.user_id, since=mark) if s.content.get("msgtype") == "m.file"
    ]
    mark = alice.mark()
    await alice.send(room, "!signaux canicule")
    answer = await alice.wait_message(sender=bot.user_id, room_id=room, since=mark)
    assert "Canicule précoce" not in answer.body


async def test_forgotten_from_a_direct_chat_after_leaving_the_rooms(start_bot: BotStarter, user) -> None:
    """Someone who left the network's rooms asks from a direct chat: afterwards, nothing
    in any table of the bot's database says their name, ID or profile's words."""
    bot = await start_bot()
    zoe: TestUser = await user("zq", displayname="Zéphyrine Quillardeau", auto_join_from=bot.user_id)
    room = await room_with_bot(zoe, bot.user_id)
    for command in [
        "!profil nom Zéphyrine Quillardeau",
        "!profil presentation Militante syndicaliste, diabétique",
        "!profil competences zythologie",
        "!profil visible",
        "!signal Les caves se vident | https://exemple.fr/caves | Moins de vin stocké #zythologie",
    ]:
        mark = zoe.mark()
        await zoe.send(room, command)
        await zoe.wait_message(sender=bot.user_id, room_id=room, since=mark)
    traces = [
        zoe.user_id,
        zoe.user_id[1:].split(":")[0],
        "Zéphyrine",
        "Quillardeau",
        "syndicaliste",
        "diabétique",
        "zythologie",
    ]
    assert len((await scan(bot.app.db, traces)).found) > 10

    await zoe.leave(room)
    dm = await zoe.create_room(None, invite=[bot.user_id], is_direct=True)
    await zoe.wait_for(
        lambda s: (
            s.room_id == dm
            and s.type == "m.room.member"
            and s.event.get("state_key") == bot.user_id
            and s.content.get("membership") == "join"
        )
    )
    mark = zoe.mark()
    await zoe.send(dm, "!oublier-moi confirmer")
    done = await zoe.wait_message(sender=bot.user_id, room_id=dm, since=mark)
    assert nb(done.body).startswith("C'est fait. J'ai effacé :"), done.body
    await bot.idle()

    result = await scan(bot.app.db, traces)
    assert result.found == [], "\n".join(result.found)
    assert result.tables >= 25


async def test_an_access_token_from_the_environment_is_kept_in_no_file(
    start_bot: BotStarter, user, tmp_path
) -> None:
    """`OASIS_MATRIX_ACCESS_TOKEN` (here `matrix.access_token`): the bot works with it and
    no file holds it; one stored by an earlier password login is forgotten."""
    bot = await start_bot()  # a password login: the token is stored in the database
    account, db_url = bot.account, bot.db_url  # type: ignore[attr-defined]
    async with bot.app.db.unit() as repos:
        stored = await repos.state.get("matrix.access_token")
    assert stored
    await bot.stop()

    # The operator moves the token to the environment (the same session as before).
    bot = await start_bot(account=account, db_url=db_url, matrix={"access_token": stored, "password": None})
    alice: TestUser = await user("alice", auto_join_from=bot.user_id)
    room = await room_with_bot(alice, bot.user_id)
    mark = alice.mark()
    await alice.send(room, "!ping")
    await alice.wait_message(sender=bot.user_id, room_id=room, since=mark, contains="pong")
    async with bot.app.db.unit() as repos:
        assert await repos.state.get("matrix.access_token") is None
    await bot.stop()
    folder = tmp_path.parent / tmp_path.name
    database = db_url.split("///", 1)[1]
    files = [p for p in folder.rglob("*") if p.is_file()] + [
        p for p in Path(database).parent.glob(Path(database).name + "*")
    ]
    assert files
    for file in files:
        assert stored.encode() not in file.read_bytes(), file
