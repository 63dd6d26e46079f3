"""The resource library through its handlers, on SQLite and PostgreSQL: sharing, the
search with its filters, published digests found too, featuring for the digest, removal
rules and personal data."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.errors import UserError
from bot.roles import Role
from commands.ressources import commands as rc
from storage.db import Database
from storage.models.signals import Digest, Signal
from tests.support.fakes import make_context, make_services, test_config

ANIM, ALICE, BOB = "@camille:exemple.fr", "@alice:exemple.fr", "@bob:exemple.fr"
NOW = datetime(2026, 12, 2, 10, 0, tzinfo=UTC)


def plain(text: str) -> str:
    return text.replace("\u00a0", " ").replace("\u202f", " ")


async def run(db: Database, handler: Any, *args: Any, sender: str = ALICE) -> str:
    async with db.unit() as repos:
        svc = make_services(clock=lambda: NOW)
        role = Role.ANIMATOR if sender == ANIM else Role.MEMBER
        ctx = await make_context(repos, sender=sender, services=svc, role=role)
        try:
            reply = await handler(ctx, *args)
        except UserError as err:
            return "ERREUR " + plain(ctx.rich(err.key, **err.params).plain)
        await repos.commit()
        return plain(reply.render(ctx.tr).plain)


def sub(name: str) -> Any:
    found = rc.resource.find_sub(name)
    assert found is not None
    return found


async def test_share_search_feature_remove(db: Database) -> None:
    added = await run(
        db,
        sub("ajouter"),
        "Fresque du climat pour les agents | https://exemple.fr/fresque | Atelier de 3 h #climat | outil",
    )
    assert added.startswith("✅ Ressource n° ") and "(outil · #climat)" in added
    n = int(re.search(r"n° (\d+)", added).group(1))  # type: ignore[union-attr]
    await run(
        db, sub("ajouter"), "Évaluation embarquée | https://exemple.fr/eval | Dix fiches | retex", sender=BOB
    )
    found = await run(db, rc.search, "fresqe")  # one slip
    assert found.startswith("1 ressource trouvée") and "Fresque du climat pour les agents" in found
    assert "🧰" in found and "outil" in found
    assert "Évaluation embarquée" in await run(db, rc.search, "evaluation type:retour d'expérience")
    assert (await run(db, rc.search, "fresque type:captation")).startswith("Rien trouvé")
    latest = await run(db, rc.search, "")
    assert latest.startswith("Les dernières ressources (2 en tout)")
    assert (await run(db, rc.search, "type:poisson")).startswith("ERREUR Je ne connais pas le type")
    assert (await run(db, sub("retirer"), n, sender=BOB)).startswith("ERREUR La ressource n° ")
    assert (await run(db, sub("vedette"), n, sender=ANIM)).startswith("⭐ La ressource")
    async with db.unit() as repos:
        section = await rc.featured_in_digest(
            await make_context(repos, services=make_services(clock=lambda: NOW)), "2026-W49"
        )
        assert section is not None and "Fresque du climat" in section.plain
    assert (await run(db, sub("retirer"), n)).startswith("La ressource n° ")
    assert "fresque" not in (await run(db, rc.search, "fresque")).lower()


async def test_published_digests_are_found(db: Database) -> None:
    async with db.unit() as repos:
        signal = await repos.signals.add(
            Signal(
                theme="climat",
                title="Sécheresse précoce dans le Gers",
                category="environnemental",
                nature="signal_faible",
            )
        )
        await repos.digests.add(
            Digest(
                week="2026-W48",
                period_start=NOW,
                period_end=NOW,
                items=[{"id": signal.id, "support": 2}],
                total=1,
                rooms=["!r:x"],
                created_at=NOW,
            )
        )
        await repos.commit()
    found = await run(db, rc.search, "secheresse")
    assert "Digest hebdomadaire 2026-W48" in found and "!digest archives 2026-W48" in found
    assert "Digest hebdomadaire" in await run(db, rc.search, "type:digest")
    async with db.unit() as repos:
        assert await repos.resources.latest_digest_id() > 0
    await run(db, rc.search, "secheresse")  # synced once: no duplicate
    assert (await run(db, rc.search, "type:digest")).startswith("La dernière ressource (1 en tout)")


async def test_a_featured_resource_is_posted_with_the_next_digest(db: Database) -> None:
    """`!ressource vedette` puts it in this week's digest; once this week's digest is out,
    in next week's. The digest shows it through its extension point (`bot.digest_sections`)."""
    from bot.digest_sections import sections_of
    from commands import digest as dg

    added = await run(db, sub("ajouter"), "Fresque du climat | https://exemple.fr/fresque | Atelier | outil")
    first = int(re.search(r"n° (\d+)", added).group(1))  # type: ignore[union-attr]
    assert (await run(db, sub("vedette"), first, sender=ANIM)).startswith("⭐ La ressource")
    rooms = ["!a:exemple.fr"]
    async with db.unit() as repos:
        services = make_services(test_config(digest={"rooms": rooms}), clock=lambda: NOW)
        result = await dg.publish(await make_context(repos, services=services), "2026-W49", rooms=rooms)
        await repos.commit()
    assert result.rooms == rooms  # posted for the featured resource alone (no signal this week)
    async with db.unit() as repos:
        [post] = [m for m in await repos.outbox.due(NOW + timedelta(days=1)) if m.room_id == rooms[0]]
    assert "Fresque du climat" in post.content["body"]

    added = await run(db, sub("ajouter"), "Atlas des sécheresses | https://exemple.fr/atlas | Cartes | outil")
    second = int(re.search(r"n° (\d+)", added).group(1))  # type: ignore[union-attr]
    await run(db, sub("vedette"), second, sender=ANIM)  # this week's digest is out: next week's
    async with db.unit() as repos:
        c = await make_context(repos, services=make_services(clock=lambda: NOW))
        this_week = " ".join(s.plain for s in await sections_of(c, "2026-W49"))
        next_week = " ".join(s.plain for s in await sections_of(c, "2026-W50"))
    assert "Atlas" not in this_week and "Fresque" in this_week
    assert "Atlas" in next_week and "Fresque" not in next_week
