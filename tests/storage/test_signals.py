"""Signals, supports, comments, search, digests and personal data on SQLite and
PostgreSQL, through the handlers members use (no homeserver)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select, text

from bot import conversations
from bot.errors import UserError
from bot.registry import Reaction, Redaction
from bot.roles import Role
from bot.text import fold
from commands import digest as dg
from commands import signals as sg
from storage.db import Database
from storage.models.runtime import SentEvent
from storage.models.signals import Signal
from storage.unit import Repos
from tests.support.fakes import FakeRooms, make_context, make_services, queued, test_config
from tests.support.fakes import render as _render


@pytest.fixture(autouse=True)
async def _ids_from_one(db: Database) -> None:
    """Short ids are part of what members read: start them at 1 on both engines."""
    if not db.is_sqlite:
        async with db.engine.begin() as conn:
            for table in ("signals", "signal_comments", "digests", "feed_items"):
                await conn.execute(text(f"ALTER SEQUENCE {table}_id_seq RESTART WITH 1"))


def render(c: Any, reply: Any) -> str:
    """What the member reads, French non-breaking spaces shown as plain ones."""
    return _render(c, reply).replace("\u00a0", " ").replace("\u202f", " ")


def plain(text: str) -> str:
    return text.replace("\u00a0", " ").replace("\u202f", " ")


ALICE, BOB, CAROL = "@alice:example.org", "@bob:example.org", "@carol:example.org"
ROOMS = FakeRooms(names={ALICE: "Alice Martin", BOB: "Bob", CAROL: "Carol"})
LINE = (
    "Les assureurs quittent le littoral | https://exemple.fr/assureurs | Deux assureurs partent #inondation"
)


def services(clock: datetime | None = None, **sections: Any):  # type: ignore[no-untyped-def]
    return make_services(test_config(**sections), rooms=ROOMS, clock=(lambda: clock) if clock else None)


async def ctx(repos: Repos, sender: str = ALICE, *, role: Role = Role.MEMBER, svc: Any = None, **kw: Any):  # type: ignore[no-untyped-def]
    return await make_context(repos, sender=sender, role=role, services=svc or services(), **kw)


async def submit(db: Database, text: str = LINE, sender: str = ALICE, svc: Any = None) -> str:
    async with db.unit() as repos:
        c = await ctx(repos, sender, svc=svc)
        reply = await sg.submit(c, text)
        await repos.commit()
        return render(c, reply)


async def test_submit_in_one_line_confirms_with_the_short_id(db: Database) -> None:
    text = await submit(db)
    assert text.startswith("✅ Signal #1 enregistré : « Les assureurs quittent le littoral »")
    assert "Environnemental · signal faible · #inondation" in text
    assert "!signal modifier 1 pourquoi" in text
    async with db.unit() as repos:
        s = await repos.signals.get(1)
        assert s is not None
        assert (s.author_id, s.author_name, s.url_key, s.status) == (
            ALICE,
            "Alice Martin",
            "exemple.fr/assureurs",
            "proposed",
        )
        assert s.room_id == "!room:example.org" and s.theme == "changement climatique"


async def test_duplicate_link_says_who_and_when(db: Database) -> None:
    await submit(db)
    async with db.unit() as repos:
        c = await ctx(repos, BOB)
        with pytest.raises(UserError) as info:
            await sg.submit(c, "Autre titre | http://www.exemple.fr/assureurs/?utm_source=x | vu aussi")
        message = plain(c.rich(info.value.key, **info.value.params).plain)
    assert (
        "déjà enregistré : #1 « Les assureurs quittent le littoral », partagé par Alice Martin le" in message
    )
    assert "!signal soutenir 1" in message
    async with db.unit() as repos:
        c = await ctx(repos, ALICE)
        with pytest.raises(UserError) as info:
            await sg.submit(c, LINE)
        assert info.value.key == "signaux.duplicate_yours"


async def test_supports_by_command_and_reaction(db: Database) -> None:
    await submit(db)
    async with db.unit() as repos:
        with pytest.raises(UserError) as info:
            await sg.support(await ctx(repos, ALICE), sg.SignalId(1))
        assert info.value.key == "signaux.errors.own_support"
        c = await ctx(repos, BOB)
        assert "a maintenant 1 soutien." in render(c, await sg.support(c, sg.SignalId(1)))
        assert "déjà" in render(c, await sg.support(c, sg.SignalId(1)))
        repos.session.add(SentEvent(event_id="$confirm", room_id="!room:example.org", tag="signal:1"))
        await repos.commit()
    reaction = Reaction("!room:example.org", CAROL, "$r1", "$confirm", "👍🏽", 0)
    async with db.unit() as repos:
        await sg.support_by_reaction(await ctx(repos, CAROL), reaction)
        # Another emoji, an untagged message, the author's own 👍: ignored.
        await sg.support_by_reaction(await ctx(repos, BOB), Reaction("!r", BOB, "$r2", "$confirm", "🎉", 0))
        await sg.support_by_reaction(await ctx(repos, BOB), Reaction("!r", BOB, "$r3", "$other", "👍", 0))
        await sg.support_by_reaction(
            await ctx(repos, ALICE), Reaction("!r", ALICE, "$r4", "$confirm", "👍", 0)
        )
        await repos.commit()
    async with db.unit() as repos:
        assert (await repos.signals.get(1)).support_count == 2  # type: ignore[union-attr]
        assert await repos.signals.supporters(1) == [BOB, CAROL]
        await sg.withdraw_reaction(await ctx(repos, CAROL), Redaction("!r", CAROL, "$x", "$r1", 0))
        await repos.commit()
    async with db.unit() as repos:
        assert (await repos.signals.get(1)).support_count == 1  # type: ignore[union-attr]


async def test_comment_show_edit_withdraw(db: Database) -> None:
    await submit(db)
    async with db.unit() as repos:
        c = await ctx(repos, BOB)
        assert "1 commentaire" in render(c, await sg.comment(c, sg.SignalId(1), "Même constat dans le Gers"))
        with pytest.raises(UserError) as info:
            await sg.edit(c, sg.SignalId(1), "titre", "Pas le mien")
        assert info.value.key == "signaux.errors.not_yours"
        a = await ctx(repos, ALICE)
        out = render(a, await sg.edit(a, sg.SignalId(1), "pourquoi", "Les communes devront s'assurer"))
        assert out.startswith("Signal #1 modifié")
        await sg.edit(a, sg.SignalId(1), "horizon", "1-3")
        await sg.edit(a, sg.SignalId(1), "territoire", "34")
        await sg.edit(a, sg.SignalId(1), "categorie", "eco")
        await repos.commit()
    async with db.unit() as repos:
        c = await ctx(repos, CAROL)
        shown = render(c, await sg.submit(c, "#1"))
        assert "#1 Les assureurs quittent le littoral (https://exemple.fr/assureurs) — proposé" in shown
        assert "Économique · signal faible · horizon 1 à 3 ans · Hérault (34) · #inondation" in shown
        assert "Pourquoi c'est important : Les communes devront s'assurer" in shown
        assert "Bob (" in shown and "Même constat dans le Gers" in shown
        # Found by the words of the new « pourquoi » (reindexed), accents ignored.
        page = await repos.signals.find(sg.SignalFilter(text="communes assurer"))
        assert [s.id for s in page.signals] == [1]
        with pytest.raises(UserError):
            await sg.withdraw(c, sg.SignalId(1))
        animator = await ctx(repos, CAROL, role=Role.ANIMATOR)
        assert "retiré" in render(animator, await sg.withdraw(animator, sg.SignalId(1)))
        await repos.commit()
    async with db.unit() as repos:
        assert await repos.signals.get(1) is None
        assert (await repos.signals.find(sg.SignalFilter(text="assureurs"))).signals == []


async def test_search_words_filters_and_discarded(db: Database) -> None:
    await submit(db, "Sécheresse record dans l'Aude | https://a.fr/1 | nappes au plus bas #eau")
    await submit(db, "Canicule et écoles | https://a.fr/2 | classes fermées en juin", BOB)
    await submit(db, "Sécheresse et vignes | https://a.fr/3 | vendanges avancées #eau", CAROL)
    async with db.unit() as repos:
        anim = await ctx(repos, CAROL, role=Role.ANIMATOR)
        await sg.edit(anim, sg.SignalId(2), "categorie", "social")
        await sg.discard(anim, sg.SignalId(3), "doublon")
        await repos.commit()
    async with db.unit() as repos:
        c = await ctx(repos, BOB)
        out = render(c, await sg.search(c, "secheresse"))
        assert "1 signal trouvé" in out and "#1 Sécheresse record" in out and "vignes" not in out
        out = render(c, await sg.search(c, "categorie:social"))
        assert "#2 Canicule et écoles" in out and "#1" not in out
        out = render(c, await sg.search(c, ""))
        assert out.startswith("Les derniers signaux (2 en tout)")
        assert render(c, await sg.search(c, "sécheresse categorie:social")).startswith("Aucun signal")
        with pytest.raises(UserError):
            await sg.search(c, "statut:ecarte")
        anim = await ctx(repos, CAROL, role=Role.ANIMATOR)
        assert "#3 Sécheresse et vignes" in render(anim, await sg.search(anim, "statut:ecarte"))
        with pytest.raises(UserError) as info:
            await sg.support(c, sg.SignalId(3))
        assert info.value.key == "signaux.errors.discarded"


async def test_a_word_naming_a_category_or_nature_is_offered_as_that_filter(db: Database) -> None:
    await submit(db, "Canicule et écoles | https://a.fr/2 | classes fermées en juin", BOB)
    async with db.unit() as repos:
        anim = await ctx(repos, CAROL, role=Role.ANIMATOR)
        await sg.edit(anim, sg.SignalId(1), "categorie", "social")
        await sg.edit(anim, sg.SignalId(1), "nature", "rupture")
        await repos.commit()
    none = "Aucun signal ne correspond. Essayez moins de mots, ou sans filtre."
    # No filter typed: the answer does not suggest dropping one.
    no_filter = "Aucun signal ne correspond. Essayez moins de mots, ou d'autres mots."
    async with db.unit() as repos:
        c = await ctx(repos, BOB)
        out = render(c, await sg.search(c, "social ecoles"))
        assert out.startswith(no_filter)
        assert out.endswith("Pour chercher par catégorie ou par nature : !signaux categorie:social ecoles")
        out = render(c, await sg.search(c, "ecoles rupture"))
        assert out.endswith("!signaux ecoles nature:rupture")
        assert "#1 Canicule et écoles" in render(c, await sg.search(c, "categorie:social ecoles"))
        # Nothing offered when that filter finds nothing either, or is given already.
        out = render(c, await sg.search(c, "technologique ecoles"))
        assert out.startswith(no_filter) and "Pour chercher" not in out
        out = render(c, await sg.search(c, "social categorie:legal"))
        assert out.startswith(none) and "Pour chercher" not in out


async def test_search_pages(db: Database) -> None:
    async with db.unit() as repos:
        c = await ctx(repos)
        for i in range(12):
            await sg.record(c, sg.sp.Draft(title=f"Inondation numéro {i}", url=f"https://a.fr/{i}"))
        await repos.commit()
    async with db.unit() as repos:
        c = await ctx(repos)
        first = render(c, await sg.search(c, "inondation"))
        assert "12 signaux trouvés" in first and "… et 2 autres : ajoutez page:2" in first
        second = render(c, await sg.search(c, "inondation page:2"))
        assert second.count("• ") == 2


async def test_dm_form_records_a_signal_step_by_step(db: Database) -> None:
    svc = services()
    answers = [
        "Les assurances quittent le littoral",
        "https://exemple.fr/dm",
        "Deux assureurs partent",
        "passer",
        "passer",  # keeps the theme's category
        "3",  # rupture
        "1 à 3 ans",
        "34",
        "#assurance, littoral",
    ]
    async with db.unit() as repos:
        c = await ctx(repos, svc=svc, is_direct=True, room_id="!dm:example.org")
        await sg.submit(c, "")
        await repos.commit()
    for answer in answers:
        async with db.unit() as repos:
            c = await ctx(repos, svc=svc, is_direct=True, room_id="!dm:example.org")
            row = await repos.conversations.get(ALICE)
            assert row is not None
            await conversations.answer(c, row, answer)
            await repos.commit()
    async with db.unit() as repos:
        assert await repos.conversations.get(ALICE) is None
        s = await repos.signals.get(1)
        assert s is not None
        assert (s.category, s.nature, s.horizon, s.territory, s.tags, s.why) == (
            "environnemental",
            "rupture",
            "1_3ans",
            "Hérault (34)",
            ["assurance", "littoral"],
            "",
        )
        messages = [plain(m["body"]) for m in await queued(repos)]
    assert messages[0].startswith("Enregistrons votre signal faible pas à pas")
    assert "1. Social, 2. Technologique" in messages[4]
    assert "« passer » garde « Environnemental »" in messages[4]
    assert messages[-1].startswith("✅ Signal #1 enregistré")


async def test_dm_form_refuses_a_known_link_at_once(db: Database) -> None:
    await submit(db)
    svc = services()
    async with db.unit() as repos:
        c = await ctx(repos, BOB, svc=svc, is_direct=True, room_id="!dm:example.org")
        await sg.submit(c, "")
        row = await repos.conversations.get(BOB)
        await conversations.answer(c, row, "Un titre")  # type: ignore[arg-type]
        row = await repos.conversations.get(BOB)
        await conversations.answer(c, row, "https://exemple.fr/assureurs")  # type: ignore[arg-type]
        last = plain((await queued(repos))[-1]["body"])
        row = await repos.conversations.get(BOB)
    assert "déjà enregistré" in last and "Réessayez" in last
    assert row is not None and row.step == 1  # still at the link question


# --- digest ----------------------------------------------------------------------------------
MONDAY = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)  # 09:00 in Paris


async def _signal(
    repos: Repos, title: str, created: datetime, support: int = 0, status: str = "proposed"
) -> Signal:
    s = Signal(
        theme="climat",
        title=title,
        url=None,
        category="environnemental",
        nature="signal_faible",
        author_id=ALICE,
        author_name="Alice",
        created_at=created,
        status=status,
    )
    await repos.signals.add(s)
    for i in range(support):
        await repos.signals.support(s, f"@fan{i}:example.org")
    return s


async def test_digest_ranks_limits_and_posts_once_per_room(db: Database) -> None:
    rooms = ["!a:example.org", "!b:example.org"]
    svc = services(MONDAY, digest={"rooms": rooms, "max_items": 2})
    async with db.unit() as repos:
        await _signal(repos, "Ancien", MONDAY - timedelta(days=8), support=9)  # before the period
        await _signal(repos, "Peu soutenu", MONDAY - timedelta(days=2), support=1)
        await _signal(repos, "Très soutenu", MONDAY - timedelta(days=3), support=3)
        await _signal(repos, "Moyen", MONDAY - timedelta(days=1), support=2)
        await _signal(repos, "Écarté", MONDAY - timedelta(days=1), support=5, status="discarded")
        await repos.commit()
    async with db.unit() as repos:
        c = await ctx(repos, svc=svc)
        result = await dg.publish(c, "2026-W49", rooms=rooms)
        await repos.commit()
    assert result.created and result.rooms == rooms
    async with db.unit() as repos:
        c = await ctx(repos, svc=svc)
        again = await dg.publish(c, "2026-W49", rooms=rooms)
        await repos.commit()
        assert again.rooms == [] and not again.created
        posts = await queued(repos)
        digest = await repos.digests.for_week("2026-W49")
        published = (await repos.session.scalars(select(Signal).where(Signal.status == "published"))).all()
    assert [p["dedup_key"] for p in posts] == [
        "digest:2026-W49:!a:example.org",
        "digest:2026-W49:!b:example.org",
    ]
    body = plain(posts[0]["body"])
    assert body.index("Très soutenu") < body.index("Moyen")
    assert "Peu soutenu" not in body and "Écarté" not in body and "Ancien" not in body
    assert "… et 1 autre : !signaux semaine" in body
    assert digest is not None and [i["id"] for i in digest.items] == [3, 4] and digest.total == 3
    assert digest.rooms == rooms
    assert sorted(s.title for s in published) == ["Moyen", "Très soutenu"]


async def test_next_digest_starts_where_the_last_ended_and_may_require_retained(db: Database) -> None:
    svc = services(MONDAY, digest={"rooms": ["!a:example.org"], "require_retained": True})
    async with db.unit() as repos:
        await _signal(repos, "Proposé", MONDAY - timedelta(days=1))
        await _signal(repos, "Retenu", MONDAY - timedelta(days=2), status="retained")
        await repos.commit()
    async with db.unit() as repos:
        c = await ctx(repos, svc=svc)
        upcoming = await dg.plan(c, MONDAY)
        assert [i.signal.title for i in upcoming.items] == ["Retenu"]
        await dg.publish(c, "2026-W49", rooms=["!a:example.org"])
        await repos.commit()
    later = MONDAY + timedelta(days=7)
    async with db.unit() as repos:
        await _signal(repos, "Après", MONDAY + timedelta(hours=1), status="retained")
        await repos.commit()
    async with db.unit() as repos:
        c = await ctx(
            repos, svc=services(later, digest={"rooms": ["!a:example.org"], "require_retained": True})
        )
        upcoming = await dg.plan(c, later)
        assert upcoming.period_start == MONDAY
        assert [i.signal.title for i in upcoming.items] == ["Après"]


async def test_publish_command_and_archives(db: Database) -> None:
    svc = services(MONDAY, digest={"rooms": ["!a:example.org"], "empty_week": "rien"})
    async with db.unit() as repos:
        anim = await ctx(repos, CAROL, role=Role.ANIMATOR, svc=svc)
        assert "rien" in render(anim, await dg.publish_now(anim))  # empty week, nothing posted
        await repos.commit()
        assert await queued(repos) == []
    svc = services(MONDAY + timedelta(days=7), digest={"rooms": ["!a:example.org"]})
    async with db.unit() as repos:
        await _signal(repos, "Un signal", MONDAY + timedelta(days=2))
        await repos.commit()
    async with db.unit() as repos:
        anim = await ctx(repos, CAROL, role=Role.ANIMATOR, svc=svc)
        preview = render(anim, await dg.preview(anim))
        assert preview.startswith("Aperçu du prochain digest") and "Un signal" in preview
        # « As it would be published now »: this week's number, like !digest publier.
        week = (MONDAY + timedelta(days=7)).isocalendar().week
        assert f"digest de la semaine {week} (" in preview
        assert render(anim, await dg.publish_now(anim)) == "Digest publié : 1 signal, dans 1 salon."
        await repos.commit()
    async with db.unit() as repos:
        anim = await ctx(repos, CAROL, role=Role.ANIMATOR, svc=svc)
        with pytest.raises(UserError) as info:
            await dg.publish_now(anim)
        assert info.value.key == "digest.errors.already"
        listing = render(anim, await dg.archives(anim, ""))
        assert "2026-W50 — 1 signal sur 1" in listing and "2026-W49 — 0 signal sur 0" in listing
        again = render(anim, await dg.archives(anim, "50"))
        assert "digest de la semaine 50" in again and "Un signal" in again


# --- personal data -----------------------------------------------------------------------------
@pytest.mark.parametrize("keep", [False, True])
async def test_erase_member(db: Database, keep: bool) -> None:
    await submit(db)
    await submit(db, "Autre | https://exemple.fr/autre | vu", BOB)
    async with db.unit() as repos:
        b = await ctx(repos, BOB)
        await sg.support(b, sg.SignalId(1))
        await sg.comment(b, sg.SignalId(1), "Bien vu")
        a = await ctx(repos, ALICE)
        await sg.support(a, sg.SignalId(2))
        await sg.comment(a, sg.SignalId(2), "Merci")
        await repos.commit()
    source = sg.SignalsData()
    source.keep_content = keep
    async with db.unit() as repos:
        exported = await source.export(repos, ALICE)
        assert [s["titre"] for s in exported["signaux"]] == ["Les assureurs quittent le littoral"]
        assert exported["commentaires"][0]["texte"] == "Merci" and exported["soutiens"][0]["signal"] == 2
        assert await source.erase(repos, ALICE) >= 3
        await repos.commit()
    async with db.unit() as repos:
        assert await source.export(repos, ALICE) == {
            "signaux": [],
            "commentaires": [],
            "soutiens": [],
            "decisions_sur_des_signaux": [],
            "decisions_de_veille": [],
            "digests_publies": [],
        }
        other = await repos.signals.get(2)
        assert other is not None and other.support_count == 0
        kept = await repos.signals.get(1)
        comments = await repos.signals.comments(2)
        if keep:
            assert kept is not None and kept.author_id is None and kept.author_name is None
            assert [(c.text, c.author_id) for c in comments] == [("Merci", None)]
            found = (await repos.signals.find(sg.SignalFilter(text="assureurs"))).signals
            assert [(s.id, s.author_id, s.title) for s in found] == [(1, None, kept.title)]
        else:
            assert kept is None and comments == []
            assert (await repos.signals.find(sg.SignalFilter(text="assureurs"))).signals == []


async def test_digest_thread_lines_once_the_digest_is_delivered(db: Database) -> None:
    from bot.scheduler import JobContext
    from commands.digest import complete_threads

    rooms = ["!a:example.org"]
    svc = services(MONDAY, digest={"rooms": rooms})
    async with db.unit() as repos:
        await _signal(repos, "Premier", MONDAY - timedelta(days=2), support=2)
        await _signal(repos, "Second", MONDAY - timedelta(days=1))
        await repos.commit()
    async with db.unit() as repos:
        await dg.publish(await ctx(repos, svc=svc), "2026-W49", rooms=rooms)
        await repos.commit()
    jobs = JobContext(svc, db, lambda: None)
    assert await complete_threads(jobs) is True  # the digest message is not delivered yet
    async with db.unit() as repos:
        assert len(await queued(repos)) == 1
        repos.session.add(SentEvent(event_id="$digest", room_id=rooms[0], tag="digest:1"))
        await repos.commit()
    assert await complete_threads(jobs) is False
    assert await complete_threads(jobs) is False  # idempotent
    async with db.unit() as repos:
        lines = (await queued(repos))[1:]
    assert [(m["tag"], m["m.relates_to"]["rel_type"], m["m.relates_to"]["event_id"]) for m in lines] == [
        ("signal:1", "m.thread", "$digest"),
        ("signal:2", "m.thread", "$digest"),
    ]
    assert plain(lines[0]["body"]).startswith("Premier — 👍 2")


async def test_territory_defaults_to_the_directory_profile(db: Database) -> None:
    async with db.unit() as repos:
        profile = await repos.profiles.get_or_create(BOB, "Bob")
        profile.territories = ["Hors Occitanie", "Gers (32)"]
        await repos.profiles.save(profile)
        await repos.commit()
    async with db.unit() as repos:
        c = await ctx(repos, BOB)
        assert await sg.default_territory(c, BOB) == "Hors Occitanie"
        assert await sg.default_territory(c, CAROL) is None  # no profile, no signal yet


async def test_the_territory_the_text_names_comes_before_the_authors(db: Database) -> None:
    async with db.unit() as repos:
        profile = await repos.profiles.get_or_create(BOB, "Bob")
        profile.territories = ["Haute-Garonne (31)"]
        await repos.profiles.save(profile)
        await repos.commit()
    said = await submit(db, "Sécheresse record dans le Gers | https://a.fr/gers | Des puits à sec", BOB)
    assert "Gers (32)" in said and "Haute-Garonne" not in said
    said = await submit(db, "Îlots de fraîcheur à Montpellier | https://a.fr/mtp | Douze écoles", BOB)
    assert "Hérault (34)" in said  # a main town stands for its département
    said = await submit(db, "Un lot de nichoirs | https://a.fr/lot | Pour les martinets", BOB)
    assert "Haute-Garonne (31)" in said  # « un lot » names no place: the author's own


async def test_find_words_with_each_filter_as_a_full_scan_would(db: Database) -> None:
    # Every filter alone and together, with one and two words, through the search index
    # (prepared filtered reads; a date through SQLAlchemy): the signals a plain scan of the
    # rows finds, no more, no fewer.
    from storage.repositories.signals import SignalFilter

    base = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
    kinds = [
        ("environnemental", "signal_faible", "Aude (11)", ALICE),
        ("social", "rupture", "Hérault (34)", BOB),
        ("environnemental", "rupture", "Hérault (34)", CAROL),
    ]
    async with db.unit() as repos:
        for i in range(24):
            category, nature, territory, author = kinds[i % 3]
            words = "sécheresse vigne" if i % 2 else "sécheresse canicule"
            await repos.signals.add(
                Signal(
                    theme="climat",
                    title=f"Signal {i} {words}",
                    url=f"https://a.fr/{i}",
                    url_key=f"a.fr/{i}",
                    category=category,
                    nature=nature,
                    territory=territory,
                    author_id=author,
                    status="proposed",
                    created_at=base + timedelta(days=i),
                )
            )
        await repos.commit()
    async with db.unit() as repos:
        everything = list((await repos.session.scalars(select(Signal))).all())
        filters: list[dict[str, Any]] = [
            {"category": "environnemental"},
            {"nature": "rupture"},
            {"territory": "Hérault (34)", "nature": "rupture"},
            {"author_id": BOB},
            {"since": base + timedelta(days=12)},
            {"since": base + timedelta(days=12), "category": "environnemental"},
            {"statuses": ("proposed",)},
        ]
        for typed in ("secheresse", "secheresse vigne", "vigne canicule"):
            for flt in filters:
                page = await repos.signals.find(SignalFilter(text=typed, **flt), limit=50)
                expected = {
                    s.id
                    for s in everything
                    if all(w in fold(s.title) for w in typed.split())
                    and all(
                        (s.created_at >= v)
                        if k == "since"
                        else (s.status in v)
                        if k == "statuses"
                        else getattr(s, k) == v
                        for k, v in flt.items()
                    )
                }
                assert {s.id for s in page.signals} == expected, (typed, flt)
                assert page.total == len(expected) and page.complete
