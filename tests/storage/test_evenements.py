"""Events, announcements and the resource library on SQLite and PostgreSQL: seats and the
waiting list, reminders handled once, an announcement's occurrence advanced once, the
library's search (accents, a typo, prefixes, filters), and personal data."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from commands.evenements.service import status_for_newcomer, to_promote
from storage.db import Database
from storage.models.annonces import Announcement
from storage.models.evenements import Event
from storage.models.ressources import Resource
from storage.repositories.ressources import ResourceFilter

NOW = datetime(2026, 12, 2, 10, 0, tzinfo=UTC)


def _event(**kw: object) -> Event:
    values: dict[str, object] = {
        "kind": "webinaire",
        "title": "Sobriété numérique",
        "starts_at": NOW + timedelta(days=10),
        "link": "https://visio.exemple.fr/oasis",
        "rooms": ["!salon:exemple.fr"],
        "created_by": "@camille:exemple.fr",
        "scheduled_at": NOW,
    }
    values.update(kw)
    return Event(**values)


async def test_seats_waiting_list_and_promotion_in_order(db: Database) -> None:
    async with db.unit() as repos:
        event = await repos.events.add(_event(capacity=2))
        results = [
            await repos.events.sign_up(event.id, f"@m{i}:exemple.fr", status_for=status_for_newcomer)
            for i in range(4)
        ]
        assert [(r.status, r.position) for r in results] == [
            ("going", 0),
            ("going", 0),
            ("waiting", 1),
            ("waiting", 2),
        ]
        again = await repos.events.sign_up(event.id, "@m3:exemple.fr", status_for=status_for_newcomer)
        assert not again.new and again.status == "waiting" and again.position == 2
        assert (await repos.events.counts([event.id]))[event.id].going == 2
        # A seat frees: the first in line gets it, the second moves up.
        left = await repos.events.withdraw(event.id, "@m0:exemple.fr", promote=to_promote)
        assert left.was == "going" and left.promoted == ("@m2:exemple.fr",)
        assert await repos.events.attendees(event.id) == ["@m1:exemple.fr", "@m2:exemple.fr"]
        assert await repos.events.attendees(event.id, "waiting") == ["@m3:exemple.fr"]
        # Someone waiting leaves: nobody is promoted.
        left = await repos.events.withdraw(event.id, "@m3:exemple.fr", promote=to_promote)
        assert left.was == "waiting" and left.promoted == ()
        assert (await repos.events.withdraw(event.id, "@nobody:exemple.fr", promote=to_promote)).was is None
        await repos.commit()


async def test_a_larger_capacity_fills_seats_and_a_reaction_withdrawal(db: Database) -> None:
    async with db.unit() as repos:
        event = await repos.events.add(_event(capacity=1))
        await repos.events.sign_up(
            event.id, "@a:x.fr", status_for=status_for_newcomer, reaction_event_id="$r1"
        )
        await repos.events.sign_up(event.id, "@b:x.fr", status_for=status_for_newcomer)
        await repos.events.sign_up(event.id, "@c:x.fr", status_for=status_for_newcomer)
        event.capacity = 2
        assert await repos.events.fill_seats(event, promote=to_promote) == ("@b:x.fr",)
        found = await repos.events.withdraw_reaction("$r1", promote=to_promote)
        assert found is not None and found[0] == event.id
        assert found[1].was == "going" and found[1].promoted == ("@c:x.fr",)
        assert await repos.events.withdraw_reaction("$unknown", promote=to_promote) is None
        assert await repos.events.statuses_of("@c:x.fr", [event.id]) == {event.id: "going"}
        await repos.commit()


async def test_upcoming_events_and_the_room_filter(db: Database) -> None:
    async with db.unit() as repos:
        soon = await repos.events.add(_event(title="Bientôt", starts_at=NOW + timedelta(hours=2)))
        later = await repos.events.add(_event(title="Plus tard", rooms=["!autre:x.fr"]))
        await repos.events.add(_event(title="Passé", starts_at=NOW - timedelta(hours=2)))
        ongoing = await repos.events.add(
            _event(title="En cours", starts_at=NOW - timedelta(hours=1), ends_at=NOW + timedelta(minutes=30))
        )
        cancelled = await repos.events.add(_event(title="Annulé"))
        await repos.events.cancel(cancelled, "grève")
        assert [e.id for e in await repos.events.upcoming(NOW)] == [ongoing.id, soon.id, later.id]
        assert [e.id for e in await repos.events.upcoming(NOW, room_id="!autre:x.fr")] == [later.id]
        assert cancelled.sequence == 1 and cancelled.status == "cancelled"
        await repos.commit()


async def test_reminders_are_handled_once_per_delay_and_start(db: Database) -> None:
    async with db.unit() as repos:
        event = await repos.events.add(_event())
        await repos.events.add(_event(starts_at=NOW - timedelta(days=1)))  # over: not planned
        start = event.starts_at
        assert await repos.events.mark_reminder(event.id, 86400, start, "sent")
        assert not await repos.events.mark_reminder(event.id, 86400, start, "sent")
        assert await repos.events.mark_reminder(event.id, 86400, start + timedelta(hours=1), "sent")
        await repos.commit()
    async with db.unit() as repos:
        states = await repos.events.reminder_states(NOW)
        assert [s.id for s in states] == [event.id]
        assert states[0].done == frozenset({(86400, start), (86400, start + timedelta(hours=1))})


async def test_events_personal_data(db: Database) -> None:
    async with db.unit() as repos:
        event = await repos.events.add(_event(capacity=1, created_by="@anim:x.fr"))
        await repos.events.sign_up(event.id, "@a:x.fr", status_for=status_for_newcomer)
        await repos.events.sign_up(event.id, "@b:x.fr", status_for=status_for_newcomer)
        exported = await repos.events.export_member("@a:x.fr")
        assert exported["inscriptions"][0]["titre"] == "Sobriété numérique"
        assert exported["inscriptions"][0]["statut"] == "going"
        assert (await repos.events.export_member("@anim:x.fr"))["evenements_crees"] == [
            {"evenement": event.id, "titre": "Sobriété numérique"}
        ]
        assert await repos.events.erase_member("@a:x.fr", promote=to_promote) == 1
        assert await repos.events.attendees(event.id) == ["@b:x.fr"]  # promoted
        assert await repos.events.erase_member("@anim:x.fr", promote=to_promote) == 1
        assert (await repos.events.get(event.id)).created_by is None  # type: ignore[union-attr]
        await repos.commit()


async def test_an_announcement_occurrence_is_advanced_once(db: Database) -> None:
    monday = datetime(2026, 12, 7, 8, 0, tzinfo=UTC)
    async with db.unit() as repos:
        ann = await repos.announcements.add(
            Announcement(
                text="Café du lundi", rooms=["!s:x.fr"], recurrence="chaque lundi 9h", author_id="@a:x.fr"
            )
        )
        assert await repos.announcements.advance(ann.id, monday, posted=True, last=False)
        assert not await repos.announcements.advance(ann.id, monday, posted=True, last=False)
        assert not await repos.announcements.advance(
            ann.id, monday - timedelta(days=7), posted=True, last=False
        )
        await repos.commit()
    async with db.unit() as repos:
        stored = await repos.announcements.get(ann.id)
        assert stored is not None and stored.posted_count == 1 and stored.last_occurrence == monday
        once = await repos.announcements.add(Announcement(text="Une fois", rooms=["!s:x.fr"], at=monday))
        assert await repos.announcements.advance(once.id, monday, posted=True, last=True)
        assert [a.id for a in await repos.announcements.active()] == [ann.id]
        assert [a.id for a in await repos.announcements.active("!autre:x.fr")] == []
        assert (await repos.announcements.export_member("@a:x.fr"))[0]["texte"] == "Café du lundi"
        assert await repos.announcements.forget_author("@a:x.fr") == 1
        await repos.commit()


async def _library(db: Database) -> dict[str, int]:
    rows = [
        Resource(
            kind="captation",
            title="Sobriété numérique dans les collectivités",
            url="https://video.exemple.fr/1",
            description="Captation du webinaire",
            event_id=7,
            author_id="@anim:x.fr",
        ),
        Resource(
            kind="outil",
            title="Fresque du climat pour les agents",
            url="https://exemple.fr/fresque",
            description="Un atelier de trois heures",
            tags=["climat", "atelier"],
            author_id="@a:x.fr",
            author_name="Alice",
        ),
        Resource(
            kind="retour_experience",
            title="Évaluation embarquée à la CAF",
            url="https://exemple.fr/caf",
            description="Ce que nous avons appris",
            author_id="@a:x.fr",
            created_at=NOW - timedelta(days=400),
        ),
        Resource(
            kind="digest", title="Digest de la semaine 49", description="sécheresse canicule", digest_id=3
        ),
    ]
    async with db.unit() as repos:
        for r in rows:
            await repos.resources.add(r)
        await repos.commit()
        return {r.kind: r.id for r in rows}


async def test_library_search_accents_typo_prefix_and_filters(db: Database) -> None:
    ids = await _library(db)
    async with db.unit() as repos:
        find = repos.resources.find
        assert [r.id for r in (await find(ResourceFilter("sobriete"))).resources] == [ids["captation"]]
        assert [r.id for r in (await find(ResourceFilter("evaluaton"))).resources] == [
            ids["retour_experience"]
        ]
        assert [r.id for r in (await find(ResourceFilter("fresq"))).resources] == [ids["outil"]]
        assert [r.id for r in (await find(ResourceFilter("secheresse"))).resources] == [ids["digest"]]
        assert [r.id for r in (await find(ResourceFilter("captation"))).resources] == [ids["captation"]]
        typed = await find(ResourceFilter("climat", kinds=("captation",)))
        assert typed.resources == []
        recent = await find(ResourceFilter("", since=NOW - timedelta(days=30)))
        assert ids["retour_experience"] not in [r.id for r in recent.resources] and recent.total == 3
        assert (await find(ResourceFilter("", kinds=("outil", "retour_experience")))).total == 2
        assert await repos.resources.latest_digest_id() == 3
        assert [r.id for r in await repos.resources.for_event(7)] == [ids["captation"]]


async def test_library_personal_data(db: Database) -> None:
    ids = await _library(db)
    async with db.unit() as repos:
        assert {r["type"] for r in await repos.resources.export_member("@a:x.fr")} == {
            "outil",
            "retour_experience",
        }
        assert await repos.resources.erase_member("@a:x.fr") == 2
        assert await repos.resources.erase_member("@anim:x.fr") == 1  # the recording stays, unnamed
        await repos.commit()
    async with db.unit() as repos:
        assert await repos.resources.get(ids["outil"]) is None
        kept = await repos.resources.get(ids["captation"])
        assert kept is not None and kept.author_id is None
        assert (await repos.resources.find(ResourceFilter("fresque"))).resources == []
