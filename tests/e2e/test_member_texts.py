"""What members read, against the real Synapse: no configuration jargon for a member, the
operator's hint for an animator, in the same room."""

from __future__ import annotations

from tests.conftest import BotStarter
from tests.support.matrix import TestUser, room_with_bot


def nb(text: str) -> str:
    return text.replace("\u00a0", " ").replace("\u202f", " ")


async def test_no_configuration_jargon_for_members_a_hint_for_animators(start_bot: BotStarter, user) -> None:
    bot = await start_bot()  # no digest room configured
    alice: TestUser = await user("alice")  # creates the room: an animator there
    bob: TestUser = await user("bob")
    room = await room_with_bot(alice, bot.user_id, bob)

    mark = bob.mark()
    await bob.send(room, "!digest")
    member = nb((await bob.wait_message(sender=bot.user_id, room_id=room, since=mark)).body)
    assert (
        "Le digest n'a pas encore de salon où paraître : l'équipe d'animation doit le mettre en place."
        in member
    )
    assert "[digest]" not in member and "configuration" not in member and "opérateur" not in member

    mark = alice.mark()
    await alice.send(room, "!digest")
    animator = nb((await alice.wait_message(sender=bot.user_id, room_id=room, since=mark)).body)
    assert animator.startswith("Le digest n'a pas encore de salon où paraître")
    assert "Pour l'opérateur du bot : ajoutez les identifiants des salons du digest" in animator
    assert "[digest]" in animator
