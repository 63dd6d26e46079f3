"""Welcome against the real Synapse: a real join is welcomed once (mentioned, m.text), a
display-name change or a comeback is not, members from before the bot are never
welcomed, five arrivals make one message, a restart in the middle of a batch still posts
it once, and the onboarding in a direct chat builds the newcomer's profile, across a
restart of the bot too."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from tests.conftest import BotStarter, RunningBot
from tests.support.matrix import Seen, TestUser, room_with_bot

UserFactory = Callable[..., Awaitable[TestUser]]
FAST = {"batch_seconds": 1, "batch_max_seconds": 5, "dm_onboarding": False}


def nb(text: str) -> str:
    return text.replace("\u00a0", " ").replace("\u202f", " ")


def welcomes(watcher: TestUser, bot: RunningBot, room: str, since: int = 0) -> list[Seen]:
    return [
        m for m in watcher.messages(sender=bot.user_id, room_id=room, since=since) if "Bienvenue" in m.body
    ]


async def arrive(owner: TestUser, room: str, *people: TestUser) -> None:
    for p in people:
        await owner.invite(room, p.user_id)
    await asyncio.gather(*(p.join(room) for p in people))


async def test_real_join_welcomed_once_not_name_change_nor_comeback(
    start_bot: BotStarter, user: UserFactory
) -> None:
    alice = await user("alice", displayname="Alice")
    early = await user("early", displayname="Early Bird")
    # A room with members from before the bot: their joins are history, never welcomed.
    room = await alice.create_room("OASIS accueil", invite=[early.user_id])
    await early.join(room)
    bot = await start_bot(accueil=FAST)
    await alice.invite(room, bot.user_id)
    await alice.wait_for(
        lambda s: (
            s.room_id == room
            and s.event.get("state_key") == bot.user_id
            and s.content.get("membership") == "join"
        )
    )

    bob = await user("bob", displayname="Bob Martin")
    mark = alice.mark()
    await arrive(alice, room, bob)
    hello = await alice.wait_message(sender=bot.user_id, room_id=room, since=mark, contains="Bienvenue")
    assert hello.content["msgtype"] == "m.text"  # a welcome notifies the newcomer
    assert hello.content["m.mentions"] == {"user_ids": [bob.user_id]}
    assert nb(hello.body).startswith("Bienvenue Bob Martin dans le réseau OASIS !")
    assert f'<a href="https://matrix.to/#/{bob.user_id}">Bob Martin</a>' in hello.content["formatted_body"]

    # A display-name change is join → join; leaving and coming back is no arrival.
    mark = alice.mark()
    await bob.set_display_name("Bob M.")
    await bob.leave(room)
    await arrive(alice, room, bob)
    await alice.quiet(sender=bot.user_id, since=mark, seconds=3, room_id=room)
    assert len(welcomes(alice, bot, room)) == 1
    assert not any("Early" in m.body or "Alice" in m.body for m in welcomes(alice, bot, room))


async def test_five_arrivals_one_message_then_restart_mid_batch(
    start_bot: BotStarter, user: UserFactory
) -> None:
    alice = await user("alice", displayname="Alice")
    bot = await start_bot(accueil={**FAST, "batch_seconds": 3})
    room = await room_with_bot(alice, bot.user_id)
    names = ["Ana", "Basile", "Chloé", "Driss", "Elsa"]
    people = [await user(n.lower().replace("é", "e"), displayname=n) for n in names]
    mark = alice.mark()
    await arrive(alice, room, *people)
    hello = await alice.wait_message(sender=bot.user_id, room_id=room, since=mark, contains="Bienvenue")
    assert sorted(hello.content["m.mentions"]["user_ids"]) == sorted(p.user_id for p in people)
    for n in names:
        assert n in hello.body
    assert (
        " et " in hello.body and hello.body.count(",") >= 3
    )  # « Ana, Basile, Chloé, Driss et Elsa » in some order
    await alice.quiet(sender=bot.user_id, since=mark, seconds=2, room_id=room)
    assert len(welcomes(alice, bot, room, since=mark)) == 1

    # A join seen, then the bot stops before the window closes: the restarted bot posts
    # the waiting welcome, once.
    fay = await user("fay", displayname="Fay")
    mark = alice.mark()
    await arrive(alice, room, fay)
    await _until_pending(bot, fay.user_id)
    await bot.stop()
    bot2 = await start_bot(account=bot.account, db_url=bot.db_url, accueil={**FAST, "batch_seconds": 3})  # type: ignore[attr-defined]
    hello = await alice.wait_message(sender=bot2.user_id, room_id=room, since=mark, contains="Fay")
    assert hello.content["m.mentions"] == {"user_ids": [fay.user_id]}
    await alice.quiet(sender=bot2.user_id, since=mark, seconds=4, room_id=room)
    assert len(welcomes(alice, bot2, room, since=mark)) == 1


async def _until_pending(bot: RunningBot, user_id: str, timeout: float = 10) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline:
        async with bot.app.db.unit() as repos:
            if any(not w.posted for w in await repos.welcomes.for_user(user_id)):
                return
        await asyncio.sleep(0.05)
    raise AssertionError("the join was not recorded")


async def test_onboarding_in_a_direct_chat_builds_the_profile(
    start_bot: BotStarter, user: UserFactory
) -> None:
    alice = await user("alice", displayname="Alice")
    bot = await start_bot(accueil={**FAST, "dm_onboarding": True})
    room = await room_with_bot(alice, bot.user_id)
    gael = await user("gael", displayname="Gaël", auto_join_from=bot.user_id)
    mark = gael.mark()
    await arrive(alice, room, gael)
    hello = await gael.wait_message(sender=bot.user_id, room_id=room, since=mark, contains="Bienvenue")
    assert "Je vous écris en privé" in hello.body
    intro = await gael.wait_message(sender=bot.user_id, since=mark, contains="Votre structure")
    dm = intro.room_id
    assert dm != room and "bienvenue dans le réseau" in intro.body

    steps: list[tuple[str, str]] = [
        ("Mairie de Rodez", "Type de structure"),
        ("banane", "n'est pas un type de structure connu"),
        ("mairie", "Votre fonction"),
        ("passer", "Votre territoire"),
        ("12, haute garonne", "compétences ou sujets"),
        ("Prospective, design de services", "présentation courte"),
        ("J'anime le labo d'innovation de la ville.", "Apparaître dans l'annuaire"),
        ("oui", "Votre fiche est enregistrée"),
    ]
    answer: Seen | None = None
    for text, expected in steps:
        mark = gael.mark()
        await gael.send(dm, text)
        answer = await gael.wait_message(sender=bot.user_id, room_id=dm, since=mark, contains=expected)
    assert answer is not None
    body = nb(answer.body)
    assert "Type de structure : Commune" in body and "Aveyron (12), Haute-Garonne (31)" in body
    assert "!profil <champ> <valeur>" in body and "!annuaire" in body

    async with bot.app.db.unit() as repos:
        profile: Any = await repos.profiles.get(gael.user_id)
    assert profile is not None
    assert (profile.structure, profile.kind, profile.role) == ("Mairie de Rodez", "Commune", None)
    assert profile.territories == ["Aveyron (12)", "Haute-Garonne (31)"]
    assert profile.tags and profile.visible and not profile.pending
    assert profile.bio == "J'anime le labo d'innovation de la ville."

    # The directory now finds the newcomer; once they ask to be forgotten, it no longer does.
    mark = alice.mark()
    await alice.send(room, "!annuaire desing territoire:12")  # one typo, one filter
    found = await alice.wait_message(sender=bot.user_id, room_id=room, since=mark)
    assert "1 membre trouvé" in nb(found.body) and "Gaël" in found.body and "Mairie de Rodez" in found.body
    mark = gael.mark()
    await gael.send(room, "!oublier-moi confirmer")
    # (Gaël's own sync may still bring the bot's answer to Alice's search: wait for his.)
    done = await gael.wait_message(sender=bot.user_id, room_id=room, since=mark, contains="J'ai effacé")
    assert "votre profil dans l'annuaire (1 enregistrement)" in nb(done.body)
    mark = alice.mark()
    await alice.send(room, "!annuaire design")
    gone = await alice.wait_message(sender=bot.user_id, room_id=room, since=mark, contains="design")
    assert "Personne ne correspond" in nb(gone.body) and "Gaël" not in gone.body
    async with bot.app.db.unit() as repos:
        assert await repos.profiles.get(gael.user_id) is None
        assert await repos.welcomes.export_member(gael.user_id) == []


async def test_onboarding_resumes_after_a_restart(start_bot: BotStarter, user: UserFactory) -> None:
    # The conversation is a database row: a bot restarted between two answers asks
    # nothing again, takes the next answer where it was, and keeps the ones given before.
    alice = await user("alice", displayname="Alice")
    accueil = {**FAST, "dm_onboarding": True}
    bot = await start_bot(accueil=accueil)
    room = await room_with_bot(alice, bot.user_id)
    hana = await user("hana", displayname="Hana", auto_join_from=bot.user_id)
    mark = hana.mark()
    await arrive(alice, room, hana)
    intro = await hana.wait_message(sender=bot.user_id, since=mark, contains="Votre structure")
    dm = intro.room_id
    mark = hana.mark()
    await hana.send(dm, "CAF de l'Aude")
    await hana.wait_message(sender=bot.user_id, room_id=dm, since=mark, contains="Type de structure")

    await bot.stop()
    restart = hana.mark()
    bot2 = await start_bot(account=bot.account, db_url=bot.db_url, accueil=accueil)  # type: ignore[attr-defined]
    assert await hana.quiet(sender=bot2.user_id, since=restart, seconds=3) == []

    for text, expected in [
        ("caf", "Votre fonction"),
        ("Chargée de prospective", "Votre territoire"),
        ("11", "compétences ou sujets"),
        ("prospective", "présentation courte"),
        ("passer", "Apparaître dans l'annuaire"),
        ("non", "Votre fiche est enregistrée"),
    ]:
        mark = hana.mark()
        await hana.send(dm, text)
        await hana.wait_message(sender=bot2.user_id, room_id=dm, since=mark, contains=expected)
    async with bot2.app.db.unit() as repos:
        profile: Any = await repos.profiles.get(hana.user_id)
    assert profile is not None
    assert (profile.structure, profile.kind, profile.role) == (
        "CAF de l'Aude",
        "Organisme social",
        "Chargée de prospective",
    )
    assert profile.territories == ["Aude (11)"] and profile.tags == ["prospective"]
    assert not profile.visible
    assert len(welcomes(alice, bot2, room)) == 1  # the welcome itself was not posted again


async def test_the_rooms_of_a_space_are_one_group(start_bot: BotStarter, user: UserFactory) -> None:
    # « groups = [["#oasis-espace:…"]] »: a member joining two rooms of the space is welcomed
    # once, in the first; joining the space itself welcomes nobody.
    alice = await user("alice", displayname="Alice")
    server = alice.user_id.split(":", 1)[1]
    bot = await start_bot(accueil={**FAST, "groups": [[f"#oasis-espace:{server}"]]})
    made = await alice.client.room_create(name="OASIS", alias="oasis-espace", space=True)
    space = str(made.room_id)  # type: ignore[union-attr]
    await alice.add_to_network(space)  # a sub-space of the network, so the bot joins it
    await alice.invite(space, bot.user_id)
    first = await room_with_bot(alice, bot.user_id, name="Accueil")
    second = await room_with_bot(alice, bot.user_id, name="Veille")
    for child in (first, second):
        await alice.client.room_put_state(space, "m.space.child", {"via": [server]}, state_key=child)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 10
    while bot.app.client.space_children(space) != sorted([first, second]):
        assert loop.time() < deadline, "the bot did not see the space and its rooms"
        await asyncio.sleep(0.1)

    iris = await user("iris", displayname="Iris")
    mark = alice.mark()
    await arrive(alice, space, iris)
    await arrive(alice, first, iris)
    hello = await alice.wait_message(sender=bot.user_id, room_id=first, since=mark, contains="Bienvenue")
    assert hello.content["m.mentions"] == {"user_ids": [iris.user_id]}
    await arrive(alice, second, iris)
    await alice.quiet(sender=bot.user_id, since=mark, seconds=3)
    assert len(welcomes(alice, bot, first, since=mark)) == 1
    assert welcomes(alice, bot, second, since=mark) == welcomes(alice, bot, space, since=mark) == []
