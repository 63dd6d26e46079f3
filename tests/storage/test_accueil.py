"""Welcomes on SQLite and PostgreSQL, through the hook, the batch and the commands (no
homeserver): once per member and group, never again on a comeback, a member who leaves
early dropped from the batch, each batch posted once, the animators' text per group, the
onboarding conversation and the profile it writes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot import conversations
from bot.context import Context, Services
from bot.errors import UserError
from bot.registry import REGISTRY, MemberChange
from bot.roles import Role
from commands.accueil import commands as wl
from commands.accueil.data import WelcomeData
from commands.accueil.service import post_batch
from storage.db import Database
from storage.unit import Repos
from tests.support.fakes import FakeRooms, make_context, make_services, queued, render, test_config

ALICE, BOB, CHLOE, DAVE = "@alice:x", "@bob:x", "@chloe:x", "@dave:x"
A, B, C, MODS, DM = "!a:x", "!b:x", "!c:x", "!mods:x", "!dm:x"
NAMES = {ALICE: "Alice", BOB: "Bob", CHLOE: "Chloé", DAVE: "Dave"}
T0 = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


def plain(text: str) -> str:
    return text.replace("\u00a0", " ").replace("\u202f", " ")


def services(clock: Clock, **accueil: Any) -> Services:
    cfg = {"groups": [[A, "#veille:x"]], "batch_seconds": 20, "dm_onboarding": False, **accueil}
    rooms = FakeRooms(
        names=NAMES,
        members={A: [], B: [], C: []},
        direct={DM},
        aliases={B: ["#veille:x"]},
        room_names={A: "OASIS — réseau", B: "Veille", C: "Webinaires"},
    )
    return make_services(test_config(accueil=cfg), rooms=rooms, clock=clock)


def change(user: str, room: str, membership: str = "join", prev: str | None = "invite") -> MemberChange:
    return MemberChange(
        room_id=room,
        user_id=user,
        sender=user,
        membership=membership,
        prev_membership=prev,
        display_name=NAMES[user],
        prev_display_name=None,
        event_id=f"${user}{room}{membership}",
        origin_ts=0,
    )


async def member_event(db: Database, svc: Services, ch: MemberChange) -> None:
    async with db.unit() as repos:
        ctx = await make_context(repos, sender=ch.user_id, room_id=ch.room_id, services=svc)
        await wl.on_arrival(ctx, ch)
        await repos.commit()


async def run_batch(db: Database, svc: Services, group_key: str) -> datetime | None:
    async with db.unit() as repos:
        ctx = await make_context(repos, sender=svc.bot_user_id, room_id="", services=svc, event_id=None)
        again = await post_batch(ctx, group_key)
        await repos.commit()
    return again


async def outbox(db: Database) -> list[dict[str, Any]]:
    async with db.unit() as repos:
        return await queued(repos)


GROUP_A = "group:" + A


async def test_welcomed_once_per_group_in_one_message_after_the_window(db: Database) -> None:
    clock = Clock()
    svc = services(clock)
    await member_event(db, svc, change(ALICE, A))
    clock.advance(5)
    await member_event(db, svc, change(BOB, B))  # B is in A's group, by alias
    await member_event(db, svc, change(ALICE, B))  # already waiting in this group
    await member_event(db, svc, change(CHLOE, C))  # C is its own group

    clock.advance(10)
    assert await run_batch(db, svc, GROUP_A) == T0 + timedelta(seconds=25)  # window still open
    assert await outbox(db) == []

    clock.advance(15)
    assert await run_batch(db, svc, GROUP_A) is None
    msgs = await outbox(db)
    # One message per room of the group where people arrived, each naming its arrivals.
    assert [(m["room_id"], m["msgtype"], m["m.mentions"]) for m in msgs] == [
        (A, "m.text", {"user_ids": [ALICE]}),
        (B, "m.text", {"user_ids": [BOB]}),
    ]
    assert plain(msgs[0]["body"]).startswith("Bienvenue Alice dans le réseau OASIS !")
    assert all(m["dedup_key"].startswith("accueil:group:!a:x:") for m in msgs)

    # Run again (a duplicate job, a restart): nothing more.
    assert await run_batch(db, svc, GROUP_A) is None
    assert len(await outbox(db)) == 2
    assert await run_batch(db, svc, C) is None
    assert [m["room_id"] for m in await outbox(db)] == [A, B, C]


async def test_comeback_and_name_change_are_not_arrivals(db: Database) -> None:
    clock = Clock()
    svc = services(clock, batch_seconds=0)
    await member_event(db, svc, change(ALICE, C))
    await run_batch(db, svc, C)
    await member_event(db, svc, change(ALICE, C, "join", "join"))  # display name
    await member_event(db, svc, change(ALICE, C, "leave", "join"))
    await member_event(db, svc, change(ALICE, C, "join", "leave"))  # comes back
    async with db.unit() as repos:
        rows = await repos.welcomes.for_user(ALICE)
        assert [(w.group_key, w.posted) for w in rows] == [(C, True)]
        assert await repos.welcomes.pending_groups() == []


async def test_who_leaves_before_the_batch_is_dropped_from_it(db: Database) -> None:
    clock = Clock()
    svc = services(clock)
    for user in (ALICE, BOB, CHLOE):
        await member_event(db, svc, change(user, C))
    await member_event(db, svc, change(BOB, C, "leave", "join"))
    clock.advance(30)
    await run_batch(db, svc, C)
    (msg,) = await outbox(db)
    assert msg["m.mentions"] == {"user_ids": [ALICE, CHLOE]}
    assert plain(msg["body"]).startswith("Bienvenue Alice et Chloé dans")
    # Bob was never welcomed: if he comes back, he is.
    await member_event(db, svc, change(BOB, C, "join", "leave"))
    async with db.unit() as repos:
        assert [g.group_key for g in await repos.welcomes.pending_groups()] == [C]


async def test_no_welcome_in_direct_chats_excluded_rooms_or_for_the_bot(db: Database) -> None:
    clock = Clock()
    svc = services(clock, exclude_rooms=[C], ignore_users=[DAVE])
    await member_event(db, svc, change(ALICE, DM))
    await member_event(db, svc, change(BOB, C))
    await member_event(db, svc, change(DAVE, A))
    async with db.unit() as repos:
        assert await repos.welcomes.pending_groups() == []
    off = services(clock, enabled=False)
    await member_event(db, off, change(ALICE, A))
    only_a = services(clock, rooms=["#veille:x"])
    await member_event(db, only_a, change(ALICE, A))
    await member_event(db, only_a, change(BOB, B))
    async with db.unit() as repos:
        assert [(w.user_id, w.room_id) for w in await repos.welcomes.for_user(BOB)] == [(BOB, B)]
        assert await repos.welcomes.for_user(ALICE) == []


async def test_moderators_notice_does_not_notify(db: Database) -> None:
    clock = Clock()
    svc = services(clock, moderators_room=MODS, batch_seconds=0)
    await member_event(db, svc, change(ALICE, C))
    await member_event(db, svc, change(BOB, C))
    await run_batch(db, svc, C)
    welcome, notice = await outbox(db)
    assert welcome["room_id"] == C and welcome["msgtype"] == "m.text"
    assert notice["room_id"] == MODS and notice["msgtype"] == "m.notice" and notice["m.mentions"] == {}
    assert plain(notice["body"]) == "Nouveaux membres dans Webinaires : Alice et Bob."


# --- !accueil ------------------------------------------------------------------------------------------
async def animator(repos: Repos, svc: Services, room: str = A) -> Context:
    return await make_context(repos, sender=DAVE, room_id=room, role=Role.ANIMATOR, services=svc)


async def test_template_set_in_chat_applies_to_the_group(db: Database) -> None:
    clock = Clock()
    svc = services(clock, batch_seconds=0)
    async with db.unit() as repos:
        ctx = await animator(repos, svc, B)
        reply = await wl.set_message(ctx, "Bienvenue {nom} dans {salon} ({reseau}) : présentez-vous !")
        text = plain(render(ctx, reply))
        assert text.startswith("✅ Message d'accueil enregistré pour ce salon et les 2 salons de son groupe.")
        assert "Bienvenue Dave dans Veille (OASIS) : présentez-vous !" in text
        with pytest.raises(UserError) as caught:
            await wl.set_message(ctx, "Salut {prenom}")
        assert "Champs possibles : {nom}, {reseau}, {salon}" in plain(render(ctx, _reply(caught.value)))
        await repos.commit()
    await member_event(db, svc, change(ALICE, A))
    await member_event(db, svc, change(BOB, C))
    await run_batch(db, svc, GROUP_A)
    await run_batch(db, svc, C)
    in_a, in_c = await outbox(db)
    assert plain(in_a["body"]) == "Bienvenue Alice dans OASIS — réseau (OASIS) : présentez-vous !"
    assert plain(in_c["body"]).startswith("Bienvenue Bob dans le réseau OASIS !")  # another group

    async with db.unit() as repos:
        ctx = await animator(repos, svc, A)
        status = plain(render(ctx, await wl.status(ctx)))
        assert "Message : personnalisé dans le salon." in status
        reset = plain(render(ctx, await wl.reset(ctx)))
        assert reset.startswith(
            "Message d'accueil remis par défaut. Aperçu :\nBienvenue Dave dans le réseau OASIS !"
        )
        preview = plain(render(ctx, await wl.preview(ctx)))
        assert "sans notifier personne" in preview
        await repos.commit()


async def test_accueil_commands_are_for_animators_in_a_room(db: Database) -> None:
    assert REGISTRY.find("accueil") is not None and REGISTRY.find("accueil").role == Role.ANIMATOR  # type: ignore[union-attr]
    async with db.unit() as repos:
        ctx = await make_context(repos, sender=DAVE, room_id=DM, is_direct=True, services=services(Clock()))
        with pytest.raises(UserError) as caught:
            await wl.preview(ctx)
        assert caught.value.key == "accueil.errors.in_room"


def _reply(err: UserError) -> Any:
    from bot.context import Reply

    return Reply(err.key, **err.params)


# --- onboarding ------------------------------------------------------------------------------------------
async def answer(db: Database, svc: Services, user: str, text: str) -> str:
    """The member types `text` in their direct chat; returns what the bot answers."""
    async with db.unit() as repos:
        before = len(await queued(repos))
        ctx = await make_context(repos, sender=user, room_id=DM, is_direct=True, services=svc)
        row = await repos.conversations.get(user)
        assert row is not None
        await conversations.answer(ctx, row, text)
        await repos.commit()
        return "\n".join(plain(m["body"]) for m in (await queued(repos))[before:])


async def test_onboarding_opened_once_and_builds_the_profile(db: Database) -> None:
    clock = Clock()
    svc = services(clock, batch_seconds=0, dm_onboarding=True)
    await member_event(db, svc, change(ALICE, A))
    await run_batch(db, svc, GROUP_A)
    welcome, intro = await outbox(db)
    assert plain(welcome["body"]).startswith(
        "Bienvenue Alice dans le réseau OASIS ! 👋 Je vous écris en privé"
    )
    assert intro["dm_user"] == ALICE and intro["msgtype"] == "m.notice"
    assert "Votre structure" in intro["body"] and "(1/7 · « passer »" in plain(intro["body"])

    assert "Type de structure" in await answer(db, svc, ALICE, "CAF de l'Aude")
    wrong = await answer(db, svc, ALICE, "boulangerie")
    assert "« boulangerie » n'est pas un type de structure connu. Types : Région · Département" in wrong
    assert "Réessayez, ou tapez « passer »." in wrong
    assert "Votre fonction" in await answer(db, svc, ALICE, "caf")
    assert "Votre territoire" in await answer(db, svc, ALICE, "Chargée de mission innovation")
    assert "compétences" in await answer(db, svc, ALICE, "11")
    assert "présentation" in await answer(db, svc, ALICE, "évaluation, prospective")
    assert "Apparaître dans l'annuaire" in await answer(db, svc, ALICE, "passer")
    done = await answer(db, svc, ALICE, "non")
    assert "✅ Votre fiche est enregistrée :" in done and "Type de structure : Organisme social" in done
    assert "Elle reste masquée" in done and "!profil <champ> <valeur>" in done
    async with db.unit() as repos:
        p = await repos.profiles.get(ALICE)
        assert p is not None and await repos.conversations.get(ALICE) is None
        assert (p.structure, p.kind, p.role, p.territories, p.bio) == (
            "CAF de l'Aude",
            "Organisme social",
            "Chargée de mission innovation",
            ["Aude (11)"],
            None,
        )
        assert p.tags and not p.visible and not p.pending

    # Welcomed in another group later: no second onboarding (she has a profile, and was
    # already welcomed once).
    await member_event(db, svc, change(ALICE, C))
    await run_batch(db, svc, C)
    assert [m["dm_user"] for m in await outbox(db)].count(ALICE) == 1  # the first intro only
    async with db.unit() as repos:
        assert await repos.conversations.get(ALICE) is None


async def test_onboarding_cancelled_saves_nothing(db: Database) -> None:
    svc = services(Clock(), batch_seconds=0, dm_onboarding=True)
    await member_event(db, svc, change(BOB, C))
    await run_batch(db, svc, C)
    assert "rien n'a été enregistré" in await answer(db, svc, BOB, "annuler")
    async with db.unit() as repos:
        assert await repos.profiles.get(BOB) is None


async def test_imported_profile_is_confirmed_or_corrected(db: Database) -> None:
    svc = services(Clock(), batch_seconds=0, dm_onboarding=True)
    async with db.unit() as repos:
        for user in (BOB, CHLOE):
            p = await repos.profiles.get_or_create(user, NAMES[user])
            p.structure, p.kind, p.territories, p.pending, p.source = (
                "DDT du Gers",
                "Service de l'État",
                ["Gers (32)"],
                True,
                "import",
            )
            await repos.profiles.save(p)
        confirmed = await repos.profiles.get_or_create(DAVE, "Dave")
        await repos.profiles.save(confirmed)
        await repos.commit()
    for user in (BOB, CHLOE, DAVE):
        await member_event(db, svc, change(user, C))
    await run_batch(db, svc, C)
    dms = [m for m in await outbox(db) if m["dm_user"]]
    assert sorted(m["dm_user"] for m in dms) == [BOB, CHLOE]  # Dave's profile is confirmed already
    asked = plain(next(m["body"] for m in dms if m["dm_user"] == BOB))
    assert "contient déjà une fiche à votre nom" in asked and "Structure : DDT du Gers" in asked

    # Bob: « oui », then visible.
    assert "répondez « oui » ou « non »".lower() in (await answer(db, svc, BOB, "peut-être")).lower()
    assert "Apparaître dans l'annuaire" in await answer(db, svc, BOB, "oui")
    assert "Elle apparaît dans l'annuaire" in await answer(db, svc, BOB, "oui")
    # Chloé: « non », then the questions with the imported values as defaults.
    corrected = await answer(db, svc, CHLOE, "non")
    assert "corrigeons-la" in corrected and "« passer » garde « DDT du Gers »" in corrected
    await answer(db, svc, CHLOE, "DDT de l'Aude")
    await answer(db, svc, CHLOE, "passer")  # keeps Service de l'État
    await answer(db, svc, CHLOE, "passer")  # no fonction
    await answer(db, svc, CHLOE, "aude")
    await answer(db, svc, CHLOE, "passer")
    await answer(db, svc, CHLOE, "passer")
    await answer(db, svc, CHLOE, "oui")
    async with db.unit() as repos:
        bob, chloe = await repos.profiles.get(BOB), await repos.profiles.get(CHLOE)
        assert bob is not None and chloe is not None
        assert (bob.pending, bob.visible, bob.structure) == (False, True, "DDT du Gers")
        assert (chloe.pending, chloe.visible, chloe.structure, chloe.kind, chloe.territories) == (
            False,
            True,
            "DDT de l'Aude",
            "Service de l'État",
            ["Aude (11)"],
        )


async def test_personal_data_export_and_erase(db: Database) -> None:
    svc = services(Clock(), batch_seconds=0)
    await member_event(db, svc, change(ALICE, A))
    await run_batch(db, svc, GROUP_A)
    source = WelcomeData()
    async with db.unit() as repos:
        (exported,) = await source.export(repos, ALICE)
        assert exported["salon"] == A and exported["accueil_publie"] is True
        assert await source.erase(repos, ALICE) == 1
        assert await source.export(repos, ALICE) == []


async def test_two_runs_racing_for_one_batch_post_it_once(db: Database) -> None:
    import asyncio

    svc = services(Clock(), batch_seconds=0)
    for user in (ALICE, BOB, CHLOE):
        await member_event(db, svc, change(user, C))
    await asyncio.gather(*(run_batch(db, svc, C) for _ in range(3)))
    (msg,) = await outbox(db)
    assert sorted(msg["m.mentions"]["user_ids"]) == [ALICE, BOB, CHLOE]
