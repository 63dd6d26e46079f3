"""The directory's storage on SQLite and PostgreSQL: search (accents, prefixes, one typo,
filters), opt-in (hidden and pending profiles are never found nor counted), counts, and
erasure that leaves nothing behind."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from bot.text import facet_value
from storage.db import Database
from storage.models.directory import Profile, ProfileFacet
from storage.models.search import SearchTerm, SearchVocab
from storage.repositories import profiles as profiles_repo
from storage.repositories import search as search_repo
from storage.repositories.profiles import KIND, STRUCTURE_KIND, TAG, TERRITORY, DirectoryQuery, apply_fields
from storage.unit import Repos

HG, GERS, HERAULT = "Haute-Garonne (31)", "Gers (32)", "Hérault (34)"


async def add(repos: Repos, user: str, **fields: Any) -> Profile:
    visible = fields.pop("visible", True)
    pending = fields.pop("pending", False)
    p = await repos.profiles.get_or_create(f"@{user}:example.org")
    p.display_name = user.capitalize()
    apply_fields(p, fields)
    p.visible, p.pending = visible, pending
    await repos.profiles.save(p)
    return p


async def network(db: Database) -> None:
    async with db.unit() as repos:
        await add(
            repos,
            "camille",
            structure="CAF de la Haute-Garonne",
            kind="Organisme social",
            territories=[HG],
            tags=["prospective", "évaluation"],
        )
        await add(
            repos,
            "dominique",
            structure="Mairie de Toulouse",
            kind="Commune",
            territories=[HG, GERS],
            tags=["design de services", "Évaluation des politiques publiques"],
        )
        await add(
            repos,
            "eve",
            structure="Région Occitanie",
            kind="Région",
            territories=[HERAULT],
            tags=["prospective"],
        )
        # Opt-in: a hidden profile and an imported one not yet confirmed.
        await add(
            repos,
            "hidden",
            structure="CAF de l'Aude",
            kind="Organisme social",
            territories=[HG],
            tags=["prospective", "évaluation"],
            visible=False,
        )
        await add(
            repos,
            "pending",
            structure="CPAM du Gers",
            kind="Organisme social",
            territories=[HG],
            tags=["prospective", "évaluation"],
            pending=True,
        )
        await repos.commit()


async def users(db: Database, query: DirectoryQuery, **kw: Any) -> list[str]:
    async with db.unit() as repos:
        page = await repos.profiles.search(query, **kw)
        return [p.user_id.split(":")[0].lstrip("@") for p in page.profiles]


async def test_words_ignore_accents_and_case_and_match_prefixes_and_one_typo(db: Database) -> None:
    await network(db)
    assert sorted(await users(db, DirectoryQuery("EVALUATION"))) == ["camille", "dominique"]
    assert sorted(await users(db, DirectoryQuery("évaluation"))) == ["camille", "dominique"]
    assert sorted(await users(db, DirectoryQuery("prospect"))) == ["camille", "eve"]
    assert sorted(await users(db, DirectoryQuery("evaluaton"))) == ["camille", "dominique"]  # one typo
    assert await users(db, DirectoryQuery("toulouse design")) == ["dominique"]  # every word
    assert await users(db, DirectoryQuery("caf aude")) == []  # the hidden one only
    assert await users(db, DirectoryQuery("xylophone")) == []


async def test_results_are_ranked_and_report_matched_terms(db: Database) -> None:
    await network(db)
    async with db.unit() as repos:
        await add(repos, "fanny", bio="Je fais un peu d'évaluation")  # the newest, a weak match
        await repos.commit()
    async with db.unit() as repos:
        page = await repos.profiles.search(DirectoryQuery("evaluation"))
    assert page.total == 3 and page.complete
    # A topic weighs more than a word of the presentation; ties go to the newest.
    assert [p.user_id for p in page.profiles] == [
        "@dominique:example.org",
        "@camille:example.org",
        "@fanny:example.org",
    ]
    assert all(page.matched[p.id] == ("evaluation",) for p in page.profiles)


@pytest.mark.parametrize("few", [5000, 0], ids=["filter-first", "filter-in-read"])
async def test_filters_alone_and_combined_with_words(
    db: Database, few: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Both ways of applying filters with words: the profiles passing them read first (few),
    # or the filters joined inside the search's bounded read (broad).
    monkeypatch.setattr(profiles_repo, "FEW_FILTERED", few)
    monkeypatch.setattr(profiles_repo, "_broad", {})
    await network(db)
    assert await users(db, DirectoryQuery(territory=GERS)) == ["dominique"]
    assert sorted(await users(db, DirectoryQuery(territory=HG))) == ["camille", "dominique"]
    assert await users(db, DirectoryQuery(kind="Organisme social")) == ["camille"]
    assert await users(db, DirectoryQuery(tag="Prospective", territory=HERAULT)) == ["eve"]
    assert await users(db, DirectoryQuery("evaluation", territory=HG, kind="Commune")) == ["dominique"]
    assert await users(db, DirectoryQuery("prospective", kind="Commune")) == []
    assert await users(db, DirectoryQuery(tag="évaluation des politiques publiques")) == ["dominique"]


async def test_a_broad_filter_reads_fewer_candidates(db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    # Filters applied inside the bounded read (broad) cut the read at a few candidates per
    # result shown; the page then says there may be more (« plus de … »).
    monkeypatch.setattr(profiles_repo, "FEW_FILTERED", 0)
    monkeypatch.setattr(profiles_repo, "_broad", {})
    await network(db)
    async with db.unit() as repos:
        monkeypatch.setattr(search_repo, "FILTERED_CANDIDATES_PER_RESULT", 1)
        cut = await repos.profiles.search(DirectoryQuery("evaluation", territory=HG), limit=1)
        monkeypatch.setattr(search_repo, "FILTERED_CANDIDATES_PER_RESULT", 12)
        whole = await repos.profiles.search(DirectoryQuery("evaluation", territory=HG), limit=1)
    assert (len(cut.profiles), cut.complete) == (1, False)
    assert (whole.total, whole.complete) == (2, True)
    assert cut.profiles[0].user_id == whole.profiles[0].user_id  # best weight read first
    # When the short read leaves too few matches of every word (Dominique, read first, has
    # no « prospective »), the search reads as much as an unfiltered one would.
    monkeypatch.setattr(search_repo, "FILTERED_CANDIDATES_PER_RESULT", 1)
    assert await users(db, DirectoryQuery("evaluation prospective", territory=HG), limit=1) == ["camille"]


async def test_a_filter_found_broad_is_remembered(db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    # The first search with a broad filter reads its first ids to find it broad; the next
    # ones skip that read, and still find the same profiles.
    monkeypatch.setattr(profiles_repo, "FEW_FILTERED", 1)
    monkeypatch.setattr(profiles_repo, "_broad", {})
    await network(db)
    query = DirectoryQuery("evaluation", territory=HG)
    first = await users(db, query)
    assert list(profiles_repo._broad) == [tuple(query.facets())]
    reads: list[object] = []
    original = profiles_repo.fetch_prepared

    async def counted(connection: object, key: object, *args: object) -> object:
        reads.append(key)
        return await original(connection, key, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(profiles_repo, "fetch_prepared", counted)
    assert await users(db, query) == first
    assert ("facets", 1) not in reads
    # A selective filter is not remembered: it is read each time, to search among its ids.
    assert await users(db, DirectoryQuery("evaluation", territory=GERS)) == ["dominique"]
    assert reads.count(("facets", 1)) == 1 and len(profiles_repo._broad) == 1


async def test_hidden_and_pending_profiles_are_never_found_nor_counted(db: Database) -> None:
    await network(db)
    everything = DirectoryQuery()
    assert sorted(await users(db, everything)) == ["camille", "dominique", "eve"]
    async with db.unit() as repos:
        assert await repos.profiles.count_listed() == 3
        assert await repos.profiles.counts(STRUCTURE_KIND) == {
            "organisme social": 1,
            "commune": 1,
            "region": 1,
        }
        assert await repos.profiles.counts(TERRITORY) == {
            facet_value(HG): 2,
            facet_value(GERS): 1,
            facet_value(HERAULT): 1,
        }
        assert (await repos.profiles.counts(TAG))["prospective"] == 2
        # Hiding a listed profile takes it out at once; confirming a pending one that was
        # made visible puts it in.
        camille = await repos.profiles.get("@camille:example.org")
        assert camille is not None
        camille.visible = False
        await repos.profiles.save(camille)
        pending = await repos.profiles.get("@pending:example.org")
        assert pending is not None
        pending.pending = False
        await repos.profiles.save(pending)
        await repos.commit()
    assert sorted(await users(db, DirectoryQuery("cpam"))) == ["pending"]
    assert await users(db, DirectoryQuery("caf")) == []
    assert sorted(await users(db, DirectoryQuery(kind="Organisme social"))) == ["pending"]


async def test_pages_and_order_without_words(db: Database) -> None:
    async with db.unit() as repos:
        for name in ("zoe", "alice", "marc", "bruno"):
            await add(repos, name, territories=[HG])
        await repos.commit()
    q = DirectoryQuery(territory="31")  # a filter value is folded like the stored ones
    assert await users(db, DirectoryQuery(territory=HG), limit=2) == ["alice", "bruno"]
    assert await users(db, DirectoryQuery(territory=HG), limit=2, offset=2) == ["marc", "zoe"]
    assert await users(db, q) == []


async def test_topics_a_filter_may_mean(db: Database) -> None:
    await network(db)
    async with db.unit() as repos:
        assert await repos.profiles.tag_values("Prospective") == ["prospective"]
        assert await repos.profiles.tag_values("evaluation") == ["evaluation"]
        assert await repos.profiles.tag_values("design") == ["design de services"]
        assert await repos.profiles.tag_values("eval") == [
            "evaluation",
            "evaluation des politiques publiques",
        ]
        assert await repos.profiles.tag_values("100%") == []


async def test_erasure_leaves_nothing_behind(db: Database) -> None:
    await network(db)
    async with db.unit() as repos:
        camille = await repos.profiles.get("@camille:example.org")
        assert camille is not None
        doc = camille.id
        vocab_before = await _vocab(repos)
        assert await repos.profiles.export_member("@camille:example.org") is not None
        assert await repos.profiles.erase_member("@camille:example.org") == 1
        await repos.commit()
    async with db.unit() as repos:
        assert await repos.profiles.get("@camille:example.org") is None
        assert await repos.profiles.export_member("@camille:example.org") is None
        assert await repos.profiles.erase_member("@camille:example.org") == 0
        facets = await repos.session.scalar(
            select(func.count()).select_from(ProfileFacet).where(ProfileFacet.profile_id == doc)
        )
        postings = await repos.session.scalar(
            select(func.count())
            .select_from(SearchTerm)
            .where(SearchTerm.kind == KIND, SearchTerm.doc_id == doc)
        )
        assert facets == 0 and postings == 0
        vocab_after = await _vocab(repos)
    # Words only Camille had are gone from the vocabulary (with their variants); shared
    # ones lost one document.
    assert vocab_before["caf"] == 1 and "caf" not in vocab_after
    assert vocab_before["prospective"] == 2 and vocab_after["prospective"] == 1
    assert vocab_before["evaluation"] == 2 and vocab_after["evaluation"] == 1
    assert vocab_before["toulouse"] == vocab_after["toulouse"] == 1
    assert await users(db, DirectoryQuery("caf")) == []
    assert await users(db, DirectoryQuery("prospective")) == ["eve"]


async def _vocab(repos: Repos) -> dict[str, int]:
    rows = await repos.session.execute(
        select(SearchVocab.term, SearchVocab.doc_count).where(SearchVocab.kind == KIND)
    )
    return {term: int(n) for term, n in rows}


async def test_search_results_are_read_as_the_orm_reads_them(db: Database) -> None:
    # The page of results is read by the driver (`snapshots`), with SQLAlchemy's own
    # column conversions: the same values, types included, as an ORM load.
    await network(db)
    async with db.unit() as repos:
        page = await repos.profiles.search(DirectoryQuery("prospective"))
        assert page.profiles
        loaded = await repos.profiles.many([p.id for p in page.profiles])
        columns = [c.key for c in Profile.__table__.columns]
        for shown in page.profiles:
            orm = loaded[shown.id]
            assert shown is not orm  # outside the session: changing it saves nothing
            for name in columns:
                value, expected = getattr(shown, name), getattr(orm, name)
                assert (value, type(value)) == (expected, type(expected)), name
        assert page.profiles[0].created_at.tzinfo is not None
        assert isinstance(page.profiles[0].territories, list)
