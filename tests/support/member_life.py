"""One member's whole life with the bot, through the real dispatcher over a real
database: what `!mes-donnees` must show and `!oublier-moi` must erase.

Zoé, animator, does everything the bot can keep about someone — profile, signals,
comments, supports, animator decisions, surveys, votes, pulses, events and sign-ups,
announcements, resources, a conversation, commands; Bob gives her things to act on. The
sender's work is simulated: every other message sent, the others failed."""

from __future__ import annotations

import itertools
from typing import Any

from sqlalchemy import select, text

from bot.dispatch import Dispatcher
from bot.roles import Role
from storage.db import Database
from storage.models.runtime import OutboxMessage
from storage.models.signals import FeedItem
from tests.support.fakes import FakePermissions, FakeRooms, make_services, test_config

ROOM = "!salon:example.org"
DM = "!prive-zq:example.org"
BOB_DM = "!prive-bob:example.org"
ZOE = "@zq-7391:example.org"
BOB = "@bob:example.org"
BOT = "@oasis:example.org"
NAME = "Zéphyrine Quillardeau"
# The profile's words, among them what the GDPR calls sensitive (health, union membership).
PROFILE_WORDS = ["Xylophagie", "Orthophoniste", "zythologie", "syndicaliste", "diabétique"]
TRACES = [ZOE, "zq-7391", *NAME.split(), *PROFILE_WORDS]

_ids = itertools.count()


def dispatcher_for(db: Database, *, zoe_in_room: bool = True) -> Dispatcher:
    rooms = FakeRooms(
        names={ZOE: NAME, BOB: "Bob"},
        members={
            ROOM: [BOB, BOT, *([ZOE] if zoe_in_room else [])],
            DM: [ZOE, BOT],
            BOB_DM: [BOB, BOT],
        },
        direct={DM, BOB_DM},
        room_names={ROOM: "OASIS"},
    )
    config = test_config(bot={"rooms": [ROOM]}, digest={"rooms": [ROOM]})
    services = make_services(
        config, rooms=rooms, permissions=FakePermissions({ZOE: Role.ANIMATOR, BOB: Role.ANIMATOR})
    )
    d = Dispatcher(services, db, _no_join, lambda: None)
    d.open()
    return d


async def _no_join(room_id: str, is_direct: bool) -> None:
    return None


async def say(d: Dispatcher, sender: str, text: str, *, room: str = ROOM) -> list[dict[str, Any]]:
    """Type a command; the bot's answers (bodies), the sender's work done."""
    event = {
        "type": "m.room.message",
        "event_id": f"$e{next(_ids)}",
        "room_id": room,
        "sender": sender,
        "origin_server_ts": 1_760_000_000_000,
        "content": {"msgtype": "m.text", "body": text},
    }
    async with d.db.unit() as repos:
        await repos.inbox.add_many([event])
        await repos.commit()
    await d.handle(event)
    return await deliver(d.db)


_deliveries = itertools.count()


async def deliver(db: Database) -> list[dict[str, Any]]:
    """What the sender would do: every other message sent, the others failed (a room
    the bot left, a person who blocked it)."""
    out = []
    async with db.unit() as repos:
        pending = (
            await repos.session.scalars(select(OutboxMessage).where(OutboxMessage.status == "pending"))
        ).all()
        for row in pending:
            out.append({**row.content, "_attachment": row.attachment})
            n = next(_deliveries)
            if n % 2:
                await repos.outbox.mark_failed(row.id, "M_FORBIDDEN: not in room")
            else:
                await repos.outbox.mark_sent(row.id, f"$sent{n}", row.room_id or DM)
        await repos.commit()
    return out


def bodies(messages: list[dict[str, Any]]) -> str:
    return "\n".join(str(m.get("body", "")) for m in messages)


async def restart_numbering(db: Database) -> None:
    """Signals, surveys, events… numbered from 1 again (PostgreSQL's sequences outlive the
    rows the fixture deletes), so « !vote 2 » means the same on both engines."""
    if db.is_sqlite:
        return
    async with db.engine.begin() as conn:
        names = (
            await conn.execute(text("SELECT sequencename FROM pg_sequences WHERE schemaname = 'public'"))
        ).scalars()
        for name in list(names):
            await conn.execute(text(f'ALTER SEQUENCE "{name}" RESTART WITH 1'))


async def live_everything(d: Dispatcher) -> None:
    """Zoé does all the bot can remember about someone; Bob gives her things to act on."""
    await restart_numbering(d.db)
    for field, value in [
        ("nom", NAME),
        ("structure", "Brasserie Xylophagie"),
        ("fonction", "Orthophoniste"),
        ("competences", "zythologie, prospective"),
        ("presentation", "Militante syndicaliste, diabétique, passionnée de prospective."),
    ]:
        await say(d, ZOE, f"!profil {field} {value}", room=DM)
    assert "visible" in bodies(await say(d, ZOE, "!profil visible", room=DM))
    assert "1 membre" in bodies(await say(d, BOB, "!annuaire zythologie"))
    await say(d, ZOE, "!langue fr", room=DM)

    # Signals: hers, Bob's (that she supports, comments, retains), one from the feeds.
    got = bodies(
        await say(d, ZOE, "!signal Les caves se vident | https://exemple.fr/caves | Moins de vin stocké")
    )
    assert "enregistré" in got, got
    await say(d, BOB, "!signal Les nappes baissent | https://exemple.fr/nappes | Moins d'eau en été")
    await say(d, ZOE, "!signal soutenir 2")
    await say(d, ZOE, "!signal commenter 2 Même chose chez nous")
    await say(d, ZOE, "!signal retenir 2")
    await say(d, BOB, "!signal soutenir 1")
    async with d.db.unit() as repos:
        repos.session.add(
            FeedItem(
                feed_url="https://flux.exemple.fr/rss",
                feed_name="Flux",
                guid="g1",
                title="Un article de flux",
            )
        )
        await repos.commit()
    await say(d, ZOE, "!veille retenir 1")
    assert "publié" in bodies(await say(d, ZOE, "!digest publier"))

    # Surveys: she launches one and closes it, votes in Bob's, plans a pulse and stops it.
    await say(d, ZOE, '!sondage "Où se retrouver ?" Albi Sète')
    await say(d, BOB, '!sondage "Quel thème ?" Climat Énergie')
    await say(d, ZOE, "!vote 2 Climat")
    # An anonymous one: asked in each member's direct chat, answered under a hash.
    asked = bodies(await say(d, BOB, '!sondage "Le réseau vous aide-t-il ?" Oui Non --anonyme'))
    assert "anonyme" in asked, asked
    await say(d, ZOE, "!vote 3 Oui", room=DM)
    await say(d, ZOE, "!sondage clore 1")
    await say(d, ZOE, "!pouls planifier chaque lundi 9h")
    await say(d, ZOE, "!pouls arreter 1")
    await say(d, ZOE, "!rappels non", room=DM)

    # Events, announcements, resources.
    await say(
        d, ZOE, "!webinaire ajouter demain 14h-15h | Caves et climat | https://visio.exemple.fr/a | Échanges"
    )
    await say(
        d, BOB, "!webinaire ajouter après-demain 10h-11h | Nappes | https://visio.exemple.fr/b | Échanges"
    )
    await say(d, ZOE, "!participer 2")
    await say(d, ZOE, "!annonce planifier demain 9h | Pensez au webinaire")
    await say(
        d, ZOE, "!ressource ajouter Guide des caves | https://exemple.fr/guide | Un guide #caves | outil"
    )
    await say(d, BOB, "!ressource ajouter Fiche nappes | https://exemple.fr/fiche | Une fiche | outil")
    await say(d, ZOE, "!ressource vedette 2")

    # A conversation left in the middle (the signal form), holding her words.
    await say(d, ZOE, "!signal", room=DM)
    await say(d, ZOE, "Zythologie et syndicaliste", room=DM)
    # A search whose words are hers.
    await say(d, ZOE, "!annuaire diabétique orthophoniste")
