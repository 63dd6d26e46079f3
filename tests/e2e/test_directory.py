"""The directory against the real Synapse: a member fills in their profile with
`!profil …` and makes it visible; another finds them with `!annuaire` (a typo and a
filter), through a link that does not notify them; a bad value gets the French list of
valid values."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from tests.conftest import BotStarter
from tests.support.matrix import TestUser, room_with_bot


def nb(text: str) -> str:
    return text.replace("\u00a0", " ").replace("\u202f", " ")


async def test_profile_edited_made_visible_then_found(
    start_bot: BotStarter, user: Callable[..., Awaitable[TestUser]]
) -> None:
    bot = await start_bot()
    alice = await user("alice", displayname="Alice Martin")
    bob = await user("bob", displayname="Bob")
    room = await room_with_bot(alice, bot.user_id, bob)

    async def say(who: TestUser, text: str, expected: str, html: str | None = None) -> str:
        mark = who.mark()
        await who.send(room, text, html=html)
        answer = await who.wait_for(
            lambda s: s.type == "m.room.message" and s.sender == bot.user_id and expected in nb(s.body),
            since=mark,
        )
        return nb(answer.body)

    # A hidden profile nobody finds yet.
    await say(alice, "!profil structure CAF de la Haute-Garonne", "✅ Structure : CAF de la Haute-Garonne")
    refused = await say(alice, "!profil type banane", "n'est pas un type de structure connu")
    assert refused.startswith(
        "« banane » n'est pas un type de structure connu. Types : Région · Département · Métropole ·"
    )
    assert "Organisme social" in refused
    await say(
        alice, "!profil type Caisse d'allocations familiales", "✅ Type de structure : Organisme social"
    )
    await say(alice, "!profil territoire haute garonne", "✅ Territoire : Haute-Garonne (31)")
    edited = await say(alice, "!profil compétences évaluation, prospective", "✅ Compétences et sujets")
    assert "(Profil masqué : tapez !profil visible pour apparaître dans l'annuaire.)" in edited
    await say(bob, "!annuaire evaluation", "Personne ne correspond")
    await say(alice, "!profil visible", "👁 Votre profil est visible")

    # Bob finds her with a typo and a filter; the link to her notifies nobody.
    mark = bob.mark()
    await bob.send(room, "!annuaire evaluaton territoire:31")
    found = await bob.wait_message(sender=bot.user_id, room_id=room, since=mark, contains="trouvé")
    assert nb(found.body).split("\n") == [
        "1 membre trouvé :",
        "• Alice Martin — CAF de la Haute-Garonne · Haute-Garonne (31) · sujets : évaluation",
    ]
    assert (
        f'<a href="https://matrix.to/#/{alice.user_id}">Alice Martin</a>' in found.content["formatted_body"]
    )
    assert found.content["msgtype"] == "m.notice"
    assert found.content["m.mentions"] == {}

    # Her profile, asked for with a mention pill.
    pill = f'!profil <a href="https://matrix.to/#/{alice.user_id}">Alice Martin</a>'
    card = await say(bob, "!profil Alice Martin", "Structure :", html=pill)
    assert card.split("\n")[:3] == [
        "Alice Martin",
        "Structure : CAF de la Haute-Garonne",
        "Type de structure : Organisme social",
    ]
    # And by her name typed without a pill.
    typed = await say(bob, "!profil alice martin", "Structure :")
    assert typed.split("\n")[:2] == ["Alice Martin", "Structure : CAF de la Haute-Garonne"]
