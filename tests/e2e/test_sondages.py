"""Surveys against the real Synapse: a native poll answered by three accounts exactly as
Element answers, a vote changed, `!vote` for clients without polls, the one reminder only
to those who have not answered, the end and the results at the deadline, a vote after the
end ignored; anonymous surveys below and above k; the governance restriction; a deadline
passed while the bot was down."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from tests.conftest import BotStarter, RunningBot
from tests.support.matrix import Seen, TestUser, room_with_bot

UserFactory = Callable[..., Awaitable[TestUser]]
START = "org.matrix.msc3381.poll.start"
RESPONSE = "org.matrix.msc3381.poll.response"
END = "org.matrix.msc3381.poll.end"


def nb(text: str) -> str:
    return text.replace("\u00a0", " ").replace("\u202f", " ")


async def poll_in(member: TestUser, bot: RunningBot, room: str, since: int = 0) -> Seen:
    return await member.wait_for(
        lambda s: s.type == START and s.sender == bot.user_id and s.room_id == room, since=since
    )


async def answer(member: TestUser, room: str, poll: Seen, *ids: str) -> None:
    """A poll response exactly as Element Web and Element X send it."""
    await member.send_event(
        room,
        RESPONSE,
        {
            "m.relates_to": {"rel_type": "m.reference", "event_id": poll.event_id},
            RESPONSE: {"answers": list(ids)},
        },
    )


async def results_message(
    member: TestUser, bot: RunningBot, room: str, since: int, timeout: float = 30
) -> Seen:
    return await member.wait_message(
        sender=bot.user_id, room_id=room, since=since, contains="📊", timeout=timeout
    )


async def dm_messages(member: TestUser, bot: RunningBot, room: str, since: int = 0) -> list[Seen]:
    return [m for m in member.messages(sender=bot.user_id, since=since) if m.room_id != room]


async def test_poll_votes_reminder_end_and_late_vote(start_bot: BotStarter, user: UserFactory) -> None:
    bot = await start_bot(sondages={"remind_before": "1h"})
    alice = await user("alice", auto_join_from=bot.user_id)  # the room's creator: an animator
    bob, carol, dave = [await user(n, auto_join_from=bot.user_id) for n in ("bob", "carol", "dave")]
    room = await room_with_bot(alice, bot.user_id, bob, carol, dave)

    await alice.send(room, "!rappels non")
    await alice.wait_message(sender=bot.user_id, room_id=room, contains="plus aucun rappel")
    mark = bob.mark()
    await alice.send(room, '!sondage "Où se retrouver en juin ?" Albi Sète Rodez --fin "dans 14 secondes"')
    poll = await poll_in(bob, bot, room, mark)
    start = poll.content[START]
    assert start["question"]["body"] == "Où se retrouver en juin ?"
    assert [a["org.matrix.msc1767.text"] for a in start["answers"]] == ["Albi", "Sète", "Rodez"]
    assert start["kind"] == "org.matrix.msc3381.poll.disclosed" and start["max_selections"] == 1
    fallback = nb(poll.content["org.matrix.msc1767.text"])
    number = fallback.split("n° ", 1)[1].split(" ", 1)[0]
    assert f"!vote {number}" in fallback and "1. Albi\n2. Sète\n3. Rodez" in fallback

    # Three accounts vote as Element does; Bob changes his mind.
    await answer(bob, room, poll, "a1")
    await answer(carol, room, poll, "a2")
    await answer(bob, room, poll, "a3")
    mark = alice.mark()
    await alice.send(room, "!sondage resultats")
    shown = nb((await results_message(alice, bot, room, mark)).body)
    assert (
        "provisoires" in shown and "· 1 — Sète" in shown and "· 1 — Rodez" in shown and "· 0 — Albi" in shown
    )

    # Half-way (7 s), one reminder: to Dave only (Alice turned reminders off; Bob and
    # Carol answered).
    reminder = await dave.wait_for(
        lambda s: s.type == "m.room.message" and s.sender == bot.user_id and "⏰" in s.body, timeout=20
    )
    assert reminder.room_id != room and reminder.content["msgtype"] == "m.text"
    assert f"!vote {number}" in reminder.body
    # Dave's client shows no poll: he votes with !vote, confirmed by a reaction.
    await dave.send(room, f"!vote {number} Rodez")
    await dave.wait_for(
        lambda s: s.type == "m.reaction" and s.sender == bot.user_id and s.room_id == room, timeout=15
    )
    mark = carol.mark()
    end = await carol.wait_for(
        lambda s: s.type == END and s.room_id == room and s.sender == bot.user_id, since=mark, timeout=30
    )
    assert end.content["m.relates_to"] == {"rel_type": "m.reference", "event_id": poll.event_id}
    final = nb((await results_message(carol, bot, room, mark)).body)
    assert "définitifs" in final
    assert "░░░░░░░░░░ 0 % · 0 — Albi" in final and "67 % · 2 — Rodez" in final and "33 % · 1 — Sète" in final
    assert "3 réponses sur 4 membres éligibles (75 %)" in final
    for member in (alice, bob, carol):
        assert not any("⏰" in m.body for m in await dm_messages(member, bot, room))

    # After the end: a response is ignored, a !vote is refused.
    await answer(carol, room, poll, "a1")
    mark = carol.mark()
    await carol.send(room, f"!vote {number} Albi")
    refused = await carol.wait_message(sender=bot.user_id, room_id=room, since=mark, contains="clos")
    assert "n'est" not in refused.body or "clos" in refused.body
    mark = alice.mark()
    await alice.send(room, f"!sondage resultats {number}")
    again = nb((await results_message(alice, bot, room, mark)).body)
    assert "0 % · 0 — Albi" in again and "3 réponses sur 4" in again


async def test_anonymous_below_and_above_k_and_governance(
    start_bot: BotStarter, user: UserFactory, register: Callable[..., Awaitable[Any]]
) -> None:
    account = await register("oasis", displayname="OASIS")
    alice = await user("alice")
    gov = await alice.create_room("Gouvernance", invite=[account.user_id])
    bot = await start_bot(
        account=account, sondages={"governance_rooms": [gov], "threshold": 3, "reminder": False}
    )
    await alice.wait_for(
        lambda s: (
            s.room_id == gov
            and s.event.get("state_key") == bot.user_id
            and s.content.get("membership") == "join"
        )
    )
    people = [await user(n, auto_join_from=bot.user_id) for n in ("bea", "cyril", "dina")]
    bea, cyril, dina = people
    await alice.invite(gov, bea.user_id)
    await bea.join(gov)
    room = await room_with_bot(alice, bot.user_id, *people)

    async def anonymous(question: str) -> tuple[str, dict[str, Seen]]:
        marks = {p.user_id: p.mark() for p in people}
        mark = alice.mark()
        await alice.send(room, f'!sondage "{question}" Oui Non --anonyme --fin "dans 10 minutes"')
        announce = await alice.wait_message(sender=bot.user_id, room_id=room, since=mark, contains="anonyme")
        number = nb(announce.body).split("n° ", 1)[1].split(" ", 1)[0]
        polls = {}
        for p in people:
            polls[p.user_id] = await p.wait_for(
                lambda s: s.type == START and s.sender == bot.user_id and s.room_id != room,
                since=marks[p.user_id],
            )
        # Nothing in the room but the announcement: no poll there.
        assert not [s for s in alice.seen[mark:] if s.type == START]
        return number, polls

    # Below k: two answers (one by poll, one by !vote in the direct chat), no totals.
    number, polls = await anonymous("Le réseau est-il utile ?")
    await answer(bea, polls[bea.user_id].room_id, polls[bea.user_id], "a1")
    mark = cyril.mark()
    await cyril.send(polls[cyril.user_id].room_id, f"!vote {number} non")
    await cyril.wait_for(lambda s: s.type == "m.reaction" and s.sender == bot.user_id, since=mark)
    mark = alice.mark()
    await alice.send(room, f"!sondage resultats {number}")
    open_view = nb((await results_message(alice, bot, room, mark)).body)
    assert "2 réponses" in open_view and "Oui" not in open_view.split("\n", 1)[1]
    await asyncio.sleep(0.5)
    mark = alice.mark()
    await alice.send(room, f"!sondage clore {number}")
    below = nb((await results_message(alice, bot, room, mark)).body)
    assert "2 réponses sur 4" in below and "Moins de 3 réponses" in below
    assert "— Oui" not in below and "— Non" not in below

    # Above k: three answers, totals only.
    number, polls = await anonymous("Les rencontres vous conviennent-elles ?")
    for p, choice in ((bea, "a1"), (cyril, "a1"), (dina, "a2")):
        await answer(p, polls[p.user_id].room_id, polls[p.user_id], choice)
    await asyncio.sleep(1.5)
    mark = alice.mark()
    await alice.send(room, f"!sondage clore {number}")
    above = nb((await results_message(alice, bot, room, mark)).body)
    assert "67 % · 2 — Oui" in above and "33 % · 1 — Non" in above and "3 réponses sur 4" in above
    for p in people:
        assert p.user_id not in above

    # Governance only: Bea (in the governance room) counts; Cyril is told once, privately.
    mark = bea.mark()
    await alice.send(
        room, '!sondage "Valider le budget ?" Oui Non --pour gouvernance --fin "dans 10 minutes"'
    )
    poll = await poll_in(bea, bot, room, mark)
    await answer(bea, room, poll, "a1")
    mark = cyril.mark()
    await answer(cyril, room, poll, "a2")
    await answer(cyril, room, poll, "a1")
    told = await cyril.wait_message(sender=bot.user_id, since=mark, contains="gouvernance")
    assert told.room_id != room
    await cyril.quiet(sender=bot.user_id, since=cyril.mark(), seconds=1.5)
    assert len([m for m in cyril.messages(sender=bot.user_id, since=mark) if "gouvernance" in m.body]) == 1
    mark = alice.mark()
    await alice.send(room, "!sondage clore")
    closed = nb((await results_message(alice, bot, room, mark)).body)
    assert "100 % · 1 — Oui" in closed and "1 réponse sur 2 membres éligibles (50 %)" in closed


async def test_deadline_passed_while_the_bot_was_down(start_bot: BotStarter, user: UserFactory) -> None:
    bot = await start_bot(sondages={"reminder": False})
    alice = await user("alice")
    bob, carol, dave = [await user(n) for n in ("bob", "carol", "dave")]
    room = await room_with_bot(alice, bot.user_id, bob, carol, dave)
    mark = bob.mark()
    await alice.send(room, '!sondage "Atelier en ligne ?" Oui Non --fin "dans 8 secondes"')
    poll = await poll_in(bob, bot, room, mark)
    await answer(bob, room, poll, "a1")
    await asyncio.sleep(1)
    await bot.stop()
    await answer(carol, room, poll, "a2")  # before the deadline, the bot being down: counts
    await asyncio.sleep(8)
    await answer(dave, room, poll, "a1")  # after the deadline: ignored
    mark = alice.mark()
    await start_bot(account=bot.account, db_url=bot.db_url, sondages={"reminder": False})  # type: ignore[attr-defined]
    final = nb((await results_message(alice, bot, room, mark)).body)
    assert "50 % · 1 — Oui" in final and "50 % · 1 — Non" in final and "2 réponses sur 4" in final
    end = await alice.wait_for(lambda s: s.type == END and s.room_id == room, since=mark)
    assert end.content["m.relates_to"]["event_id"] == poll.event_id


async def test_pulse_and_the_evaluation_with_its_chart(start_bot: BotStarter, user: UserFactory) -> None:
    bot = await start_bot(sondages={"reminder": False})
    alice = await user("alice")
    bob = await user("bob")
    room = await room_with_bot(alice, bot.user_id, bob)
    mark = bob.mark()
    await alice.send(room, '!pouls --fin "dans 6 secondes"')
    poll = await poll_in(bob, bot, room, mark)
    start = poll.content[START]
    assert nb(start["question"]["body"]) == "Le réseau vous a-t-il été utile ce mois-ci ?"
    assert start["answers"][0]["org.matrix.msc1767.text"] == "1 · pas du tout"
    await answer(bob, room, poll, "a4")
    await answer(alice, room, poll, "a5")
    final = nb((await results_message(alice, bot, room, mark, timeout=30)).body)
    assert "Note moyenne : 4,5 / 5" in final

    mark = alice.mark()
    await alice.send(room, "!stats")
    text = await alice.wait_message(
        sender=bot.user_id, room_id=room, since=mark, contains="Évaluation du réseau"
    )
    body = nb(text.body)
    assert "Sondages clos : 1" in body and "Participation aux sondages : 100 %" in body
    assert "Pouls (note moyenne) : 4,5 / 5" in body and "Contributeurs actifs : 2" in body
    image = await alice.wait_for(
        lambda s: (
            s.type == "m.room.message" and s.sender == bot.user_id and s.content.get("msgtype") == "m.image"
        ),
        since=mark,
        timeout=30,
    )
    assert image.content["info"]["mimetype"] == "image/png" and image.content["info"]["w"] == 720
    assert image.content["url"].startswith("mxc://")
    assert nb(image.body).startswith(
        "Graphique du pouls et de la participation aux sondages, les 30 derniers jours"
    )
    assert "pouls 4,5 / 5" in nb(image.body)
