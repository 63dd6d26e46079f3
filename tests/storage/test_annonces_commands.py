"""Scheduled announcements through their handlers and the job, on SQLite and PostgreSQL,
with a frozen clock: scheduling once or « chaque lundi 9h », listing, cancelling, and
each occurrence posted once — across reruns (restarts), late within grace, skipped
beyond it."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from bot.errors import UserError
from bot.roles import Role
from bot.scheduler import JobContext
from commands.annonces import commands as an
from commands.annonces.jobs import run_announcements
from storage.db import Database
from tests.support.fakes import FakeRooms, make_context, make_services, queued, test_config

ANIM = "@camille:exemple.fr"
ROOM, OTHER = "!reseau:exemple.fr", "!autre:exemple.fr"
OUTSIDE = "!annexe:exemple.fr"  # a room the bot is in, not the network's
NOW = datetime(2026, 12, 2, 10, 0, tzinfo=UTC)  # Wednesday 11:00 in Paris


def plain(text: str) -> str:
    return text.replace("\u00a0", " ").replace("\u202f", " ")


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def services(clock: Clock) -> Any:
    rooms = FakeRooms(
        members={ROOM: [ANIM], OTHER: [ANIM], OUTSIDE: [ANIM]},
        aliases={OTHER: ["#autre:exemple.fr"], OUTSIDE: ["#annexe:exemple.fr"]},
    )
    return make_services(
        test_config(bot={"rooms": [ROOM, OTHER]}, annonces={"grace": "1h"}), rooms=rooms, clock=clock
    )


async def run(db: Database, svc: Any, handler: Any, *args: Any) -> str:
    async with db.unit() as repos:
        ctx = await make_context(repos, sender=ANIM, services=svc, room_id=ROOM, role=Role.ANIMATOR)
        try:
            reply = await handler(ctx, *args)
        except UserError as err:
            return "ERREUR " + plain(ctx.rich(err.key, **err.params).plain)
        await repos.commit()
        return plain(reply.render(ctx.tr).plain)


def sub(name: str) -> Any:
    found = an.announcement.find_sub(name)
    assert found is not None
    return found


async def posts(db: Database) -> list[dict[str, Any]]:
    async with db.unit() as repos:
        return [m for m in await queued(repos) if (m["dedup_key"] or "").startswith("annonces:")]


async def test_schedule_list_cancel(db: Database) -> None:
    svc = services(Clock(NOW))
    once = await run(db, svc, sub("planifier"), "demain 9h | Le webinaire commence à 14 h")
    assert re.match(r"✅ Annonce n° \d+ planifiée pour jeudi 3 décembre 2026, 9 h, dans ce salon\.", once), (
        once
    )
    weekly = await run(db, svc, sub("planifier"), '"chaque lundi 9h" | #autre:exemple.fr | Bonne semaine !')
    assert "planifiée chaque lundi à 9 h, dans 1 salon ; prochaine : lundi 7 décembre 2026, 9 h." in weekly
    n = int(re.search(r"n° (\d+)", weekly).group(1))  # type: ignore[union-attr]
    listed = await run(db, svc, an.announcements)
    assert listed.startswith("2 annonces planifiées :")
    assert (
        "chaque lundi à 9 h (prochaine : lundi 7 décembre 2026, 9 h)" in listed
        and "« Bonne semaine ! »" in listed
    )
    assert (await run(db, svc, sub("planifier"), "hier 9h | trop tard")).startswith(
        "ERREUR Ce moment est déjà passé"
    )
    assert (await run(db, svc, sub("planifier"), "chaque blurp | x")).startswith("ERREUR")
    # A room the bot is in, outside the network: never announced to (issue 11).
    assert (await run(db, svc, sub("planifier"), "demain | #annexe:exemple.fr | x")).startswith(
        "ERREUR Je ne suis pas dans le salon « #annexe:exemple.fr », ou il ne fait pas partie du réseau."
    )
    assert (await run(db, svc, sub("planifier"), "demain | #inconnu:x.fr | x")).startswith(
        "ERREUR Je ne suis pas dans le salon « #inconnu:x.fr »"
    )
    assert (await run(db, svc, sub("planifier"), "demain 9h")).startswith(
        "ERREUR Écrivez : !annonce planifier"
    )
    assert (await run(db, svc, sub("annuler"), n)).startswith(f"Annonce n° {n} annulée")
    assert (await run(db, svc, sub("annuler"), n)).startswith("ERREUR L'annonce n°")
    assert (await run(db, svc, an.announcements)).startswith("1 annonce planifiée")


async def test_each_occurrence_once_late_within_grace_skipped_beyond(db: Database) -> None:
    clock = Clock(NOW)
    svc = services(clock)
    await run(db, svc, sub("planifier"), "chaque lundi 9h | Bonne semaine !")
    await run(db, svc, sub("planifier"), "16/12 9h | Une seule fois")
    jobs = JobContext(services=svc, db=db, wake_sender=lambda: None)
    await run_announcements(jobs)
    assert await posts(db) == []
    clock.now = datetime(2026, 12, 7, 8, 0, 5, tzinfo=UTC)  # Monday 9:00:05 in Paris
    await run_announcements(jobs)
    await run_announcements(jobs)  # a restart: nothing more
    (first,) = await posts(db)
    assert first["body"] == "Bonne semaine !" and first["room_id"] == ROOM and first["msgtype"] == "m.notice"
    assert first["dedup_key"].endswith(":2026-12-07T09:00:00:" + ROOM)
    clock.now = datetime(2026, 12, 14, 8, 40, tzinfo=UTC)  # back 40 min late: within grace
    await run_announcements(jobs)
    assert len(await posts(db)) == 2
    clock.now = datetime(2026, 12, 21, 11, 0, tzinfo=UTC)  # three hours late: skipped
    await run_announcements(jobs)
    assert len(await posts(db)) == 2
    clock.now = datetime(2026, 12, 28, 8, 0, 1, tzinfo=UTC)
    await run_announcements(jobs)
    texts = [m["body"] for m in await posts(db)]
    assert texts.count("Bonne semaine !") == 3 and "Une seule fois" not in texts  # the one-off: beyond grace
    async with db.unit() as repos:
        assert [a.text for a in await repos.announcements.active()] == ["Bonne semaine !"]
