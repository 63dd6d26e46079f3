"""Events through their handlers and the reminders job, on SQLite and PostgreSQL (no
homeserver, a frozen clock): what animators and members type and read, what is queued
(announcement, .ics, notices with their mentions), and each reminder posted once."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import icalendar

from bot.errors import UserError
from bot.roles import Role
from bot.scheduler import JobContext
from commands.evenements import commands as ev
from commands.evenements.jobs import run_reminders
from storage.db import Database
from storage.models.runtime import OutboxMessage
from tests.support.fakes import FakeRooms, make_context, make_services, queued, test_config
from tests.support.fakes import render as _render

ANIM, ALICE, BOB, CAROL = "@camille:exemple.fr", "@alice:exemple.fr", "@bob:exemple.fr", "@carol:exemple.fr"
ROOM = "!reseau:exemple.fr"
NOW = datetime(2026, 12, 2, 10, 0, tzinfo=UTC)  # Wednesday 11:00 in Paris


def plain(text: str) -> str:
    return text.replace("\u00a0", " ").replace("\u202f", " ")


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def services(clock: Clock, **sections: Any):  # type: ignore[no-untyped-def]
    sections.setdefault("evenements", {"rappels": ["7j", "1j", "1h"]})
    return make_services(test_config(**sections), rooms=FakeRooms(names={ALICE: "Alice"}), clock=clock)


async def run(db: Database, svc: Any, handler: Any, *args: Any, sender: str = ALICE, **kw: Any) -> str:
    async with db.unit() as repos:
        role = Role.ANIMATOR if sender == ANIM else Role.MEMBER
        ctx = await make_context(
            repos, sender=sender, services=svc, room_id=kw.pop("room_id", ROOM), role=role, **kw
        )
        try:
            reply = await handler(ctx, *args)
        except UserError as err:
            return "ERREUR " + plain(ctx.rich(err.key, **err.params).plain)
        await repos.commit()
        return plain(_render(ctx, reply))


async def create(db: Database, svc: Any, text: str) -> int:
    """Create an event as the animator; its number (sequences differ between engines)."""
    echo = await run(db, svc, sub("ajouter"), text, sender=ANIM)
    m = re.search(r"n° (\d+)", echo)
    assert m, echo
    return int(m.group(1))


def sub(name: str) -> Any:
    found = ev.WEBINAIRE.find_sub(name)
    assert found is not None
    return found


async def outbox(db: Database) -> list[dict[str, Any]]:
    async with db.unit() as repos:
        return await queued(repos)


async def attachments(db: Database) -> list[bytes]:
    from sqlalchemy import select

    async with db.unit() as repos:
        rows = await repos.session.scalars(
            select(OutboxMessage).where(OutboxMessage.attachment.is_not(None)).order_by(OutboxMessage.id)
        )
        return [r.attachment for r in rows if r.attachment is not None]


async def test_create_echo_announcement_and_ics(db: Database) -> None:
    svc = services(Clock(NOW))
    refused = await run(db, svc, sub("ajouter"), "hier 14h | Titre | https://visio.fr/x", sender=ANIM)
    assert refused.startswith("ERREUR Ce moment est déjà passé (mardi 1er décembre à 14 h).")
    unreadable = await run(db, svc, sub("ajouter"), "bientôt | Titre | https://visio.fr/x", sender=ANIM)
    assert "Exemples : « mardi prochain 14h »" in unreadable
    echo = await run(
        db,
        svc,
        sub("ajouter"),
        "16 décembre 2026 14:00-15:30 | IA et service public | https://visio.fr/ia | Retours | 2 places",
        sender=ANIM,
    )
    n = int(re.findall(r"n° (\d+)", echo)[0])
    assert echo.splitlines()[:2] == [
        f"✅ Webinaire n° {n} « IA et service public » enregistré.",
        "📅 J'ai compris : mercredi 16 décembre 2026, 14 h – 15 h 30",
    ]
    assert "Annoncé ci-dessous" in echo
    sent = await outbox(db)
    assert [m["msgtype"] for m in sent] == ["m.notice", "m.file"]
    assert sent[0]["room_id"] == ROOM and sent[0]["tag"] == f"evenement:{n}"
    assert f"réagissez ✅ à ce message, ou tapez !participer {n}" in plain(sent[0]["body"])
    assert sent[1]["body"].endswith(".ics") and sent[1]["tag"] == f"evenement:{n}"
    (data,) = await attachments(db)
    (vevent,) = icalendar.Calendar.from_ical(data).walk("VEVENT")
    assert str(vevent["SUMMARY"]) == "IA et service public"
    assert vevent.decoded("DTSTART") == datetime(2026, 12, 16, 13, 0, tzinfo=UTC)


async def test_sign_up_waiting_list_promotion_and_agenda(db: Database) -> None:
    svc = services(Clock(NOW))
    n = await create(db, svc, "demain 14h | Sobriété | https://visio.fr/s | | 1 place")
    going = await run(db, svc, ev.attend, "")
    assert going.startswith(
        f"✅ C'est noté : vous participez au webinaire n° {n} « Sobriété », jeudi 3 décembre 2026, 14 h"
    )
    assert (await run(db, svc, ev.attend, str(n))).startswith("Vous êtes déjà inscrit·e")
    assert "n° 1 sur la liste d'attente" in await run(db, svc, ev.attend, f"n° {n}", sender=BOB)
    assert "n° 2 sur la liste d'attente" in await run(db, svc, ev.attend, f"#{n}", sender=CAROL)
    agenda = await run(db, svc, ev.agenda, sender=BOB)
    line = f"n° {n} webinaire « Sobriété » · jeudi 3 décembre 2026, 14 h · complet, 2 en liste d'attente · ⏳"
    assert line in agenda
    assert (await run(db, svc, ev.unattend, "")).startswith(f"C'est noté : vous ne participez plus au n° {n}")
    dms = [m for m in await outbox(db) if m["dm_user"]]
    assert [m["dm_user"] for m in dms] == [BOB]
    assert plain(dms[0]["body"]).startswith(
        f"🎉 Une place s'est libérée : vous participez au webinaire n° {n}"
    )
    assert "vous n'êtes pas" in (await run(db, svc, ev.unattend, str(n))).lower()
    assert (await run(db, svc, ev.attend, "999999")).startswith("ERREUR Il n'y a pas d'événement n° 999999")


async def test_change_and_cancel_tell_those_signed_up(db: Database) -> None:
    svc = services(Clock(NOW))
    n = await create(db, svc, "mardi prochain 14h | Atelier | https://visio.fr/a")
    await run(db, svc, ev.attend, str(n))
    before = len(await outbox(db))
    changed = await run(db, svc, sub("modifier"), f"{n} quand jeudi 10 décembre 9h30-11h", sender=ANIM)
    assert changed == f"N° {n} modifié — quand : jeudi 10 décembre 2026, 9 h 30 – 11 h. " + (
        "Les inscrits sont prévenus."
    )
    notice, ics = (await outbox(db))[before:]
    assert notice["msgtype"] == "m.text" and notice["m.mentions"] == {"user_ids": [ALICE]}
    assert ics["msgtype"] == "m.file"
    assert (await run(db, svc, sub("modifier"), f"{n} couleur bleu", sender=ANIM)).startswith(
        "ERREUR Je ne sais pas modifier"
    )
    cancelled = await run(db, svc, sub("annuler"), f"{n} intervenant malade", sender=ANIM)
    assert cancelled == f"N° {n} « Atelier » annulé. La personne inscrite est prévenue."
    last = (await outbox(db))[-2]
    assert "annulé — intervenant malade" in plain(last["body"]) and last["m.mentions"] == {
        "user_ids": [ALICE]
    }
    assert (await run(db, svc, ev.attend, str(n))).startswith(f"ERREUR Le n° {n} « Atelier » est annulé")
    async with db.unit() as repos:
        (data,) = [a for a in await attachments(db)][-1:]
        assert str(icalendar.Calendar.from_ical(data).walk("VEVENT")[0]["STATUS"]) == "CANCELLED"
        assert (await repos.events.get(n)).sequence == 2  # type: ignore[union-attr]


async def test_reminders_once_each_with_mentions_and_restart(db: Database) -> None:
    clock = Clock(NOW)
    svc = services(clock)
    n = await create(db, svc, "16/12 14h | Rappels | https://visio.fr/r")  # 13:00 UTC
    await run(db, svc, ev.attend, str(n))
    await run(db, svc, ev.attend, str(n), sender=BOB)
    jobs = JobContext(services=svc, db=db, wake_sender=lambda: None)
    start = datetime(2026, 12, 16, 13, 0, tzinfo=UTC)

    async def reminders() -> list[dict[str, Any]]:
        return [m for m in await outbox(db) if ":rappel:" in (m["dedup_key"] or "")]

    await run_reminders(jobs)
    assert await reminders() == []
    clock.now = start - timedelta(days=7)
    await run_reminders(jobs)
    await run_reminders(jobs)  # a second run (a restart) posts nothing more
    (ahead,) = await reminders()
    assert ahead["msgtype"] == "m.notice" and ahead["m.mentions"] == {}
    assert plain(ahead["body"]).startswith(
        f"🗓️ Dans 1 semaine : webinaire n° {n} « Rappels », mercredi 16 décembre 2026, 14 h."
    )
    # Down from J-1 to 30 minutes before the start: only the closest reminder, late.
    clock.now = start - timedelta(minutes=30)
    await run_reminders(jobs)
    await run_reminders(jobs)
    soon = (await reminders())[1:]
    assert len(soon) == 1 and soon[0]["msgtype"] == "m.text"
    assert plain(soon[0]["body"]).startswith(
        f"⏰ Rappel : le webinaire n° {n} « Rappels » commence dans 30 minutes"  # late: the time really left
    )
    assert soon[0]["m.mentions"] == {"user_ids": [ALICE, BOB]}
    clock.now = start + timedelta(minutes=1)
    await run_reminders(jobs)
    assert len(await reminders()) == 2


async def test_agenda_ics_and_the_webinars_alone(db: Database) -> None:
    svc = services(Clock(NOW))
    first = await create(db, svc, "demain 14h | Premier | https://visio.fr/1")
    await run(db, svc, ev.RENCONTRE.find_sub("ajouter"), "16/12 9h30-17h | Rencontre | Toulouse", sender=ANIM)
    only = await run(db, svc, ev.WEBINAIRE, "")
    assert "Premier" in only and "Rencontre" not in only
    assert (await run(db, svc, ev.WEBINAIRE, str(first))).startswith(f"📣 Webinaire n° {first} : « Premier »")
    before = len(await attachments(db))
    assert await run(db, svc, ev.agenda_ics) == ""
    data = (await attachments(db))[before]
    cal = icalendar.Calendar.from_ical(data)
    assert [str(e["SUMMARY"]) for e in cal.walk("VEVENT")] == ["Premier", "Rencontre"]
    assert str(cal.walk("VEVENT")[1]["LOCATION"]) == "Toulouse"
    caption = [m for m in await outbox(db) if "L'agenda du réseau" in plain(m["body"])]
    assert caption and caption[-1]["room_id"] == ROOM


async def test_sign_up_and_withdraw_by_reaction(db: Database) -> None:
    from bot.registry import Reaction, Redaction
    from storage.models.runtime import SentEvent

    svc = services(Clock(NOW))
    n = await create(db, svc, "demain 14h | Par réaction | https://visio.fr/r | | 1 place")
    async with db.unit() as repos:
        repos.session.add(SentEvent(event_id="$annonce", room_id=ROOM, tag=f"evenement:{n}"))
        await repos.commit()

    async def react(sender: str, event_id: str, key: str = "✅") -> None:
        async with db.unit() as repos:
            ctx = await make_context(repos, sender=sender, services=svc, room_id=ROOM)
            await ev.sign_up_by_reaction(ctx, Reaction(ROOM, sender, event_id, "$annonce", key, 0))
            await repos.commit()

    await react(ALICE, "$r-alice")
    await react(BOB, "$r-bob", "✔️")
    await react(CAROL, "$r-carol", "👍")  # not a sign-up
    async with db.unit() as repos:
        assert await repos.events.attendees(n) == [ALICE]
        assert await repos.events.attendees(n, "waiting") == [BOB]
        ctx = await make_context(repos, sender=ALICE, services=svc, room_id=ROOM)
        await ev.withdraw_by_reaction(ctx, Redaction(ROOM, ALICE, "$redaction", "$r-alice", 0))
        await repos.commit()
    async with db.unit() as repos:
        assert await repos.events.attendees(n) == [BOB]
    dms = [m for m in await outbox(db) if m["dm_user"] == BOB]
    assert [plain(m["body"]).split(" :")[0] for m in dms] == [
        f"Le webinaire n° {n} « Par réaction » est complet",
        "🎉 Une place s'est libérée",
    ]
