"""The shared search index, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import bindparam, select

from storage.db import Database
from storage.models.search import SearchVariant, SearchVocab
from storage.repositories import search as search_repo
from storage.repositories.search import Restrict

DOCS = {
    1: [("Camille Martin", 3), ("Région Occitanie", 1), ("évaluation des politiques publiques", 2)],
    2: [("Dominique Durand", 3), ("CAF de la Haute-Garonne", 1), ("prospective climat", 2)],
    3: [("Claude Petit", 3), ("Métropole de Montpellier", 1), ("design des services, évaluation", 2)],
}


async def _indexed(db: Database) -> None:
    async with db.unit() as repos:
        await repos.search.index_many("profile", DOCS)
        await repos.commit()


async def _ids(db: Database, query: str, **kw: object) -> list[int]:
    async with db.unit() as repos:
        result = await repos.search.search("profile", query, **kw)  # type: ignore[arg-type]
    return [h.doc_id for h in result.hits]


async def test_accents_case_prefix_and_typo(db: Database) -> None:
    await _indexed(db)
    assert set(await _ids(db, "EVALUATION")) == {1, 3}
    assert set(await _ids(db, "évaluation")) == {1, 3}
    assert await _ids(db, "prospect") == [2]  # prefix
    assert set(await _ids(db, "evaluaton")) == {1, 3}  # one letter missing
    assert await _ids(db, "prospectvie") == [2]  # transposition
    assert await _ids(db, "zzzz") == []


async def test_a_typed_word_that_is_indexed_keeps_only_more_frequent_neighbours(db: Database) -> None:
    # « velo » is a word of the index: rarer words one edit away (« veto ») are other
    # words, not typos of it. « evaluaton », misspelled in one document, is rarer than
    # its neighbour « évaluation »: a typo of it, still found (after the exact match).
    async with db.unit() as repos:
        await repos.search.index_many(
            "signal",
            {
                1: [("Le vélo en ville", 1)],
                2: [("Vélo cargo", 1)],
                3: [("Droit de veto", 1)],
                4: [("Évaluation des politiques", 1)],
                5: [("Une évaluation", 1)],
                6: [("Une evaluaton mal écrite", 1)],
            },
        )
        await repos.commit()
    async with db.unit() as repos:
        velo = await repos.search.search("signal", "velo")
        evaluaton = await repos.search.search("signal", "evaluaton")
        veto = await repos.search.search("signal", "veto")
    assert [h.doc_id for h in velo.hits] == [2, 1]
    assert [h.doc_id for h in evaluaton.hits] == [6, 5, 4]
    assert [h.doc_id for h in veto.hits] == [3, 2, 1]  # « velo » is more frequent


async def test_all_words_must_match_and_ranking(db: Database) -> None:
    await _indexed(db)
    assert await _ids(db, "évaluation montpellier") == [3]
    # Weight 3 (name) beats weight 1 (structure) for the same word.
    async with db.unit() as repos:
        await repos.search.index("profile", 4, [("Martin Occitanie", 1)])
        await repos.commit()
    assert await _ids(db, "martin") == [1, 4]


@pytest.mark.parametrize("scan", [0, 1000], ids=["looked-up", "read-whole"])
async def test_other_words_checked_either_way(
    db: Database, scan: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The other words of a query are checked on the candidates by looking their postings
    # up per candidate, or (few postings) by reading them whole: the same matches, scores.
    monkeypatch.setattr(search_repo, "SCAN_PER_CANDIDATE", scan)
    await _indexed(db)
    async with db.unit() as repos:
        await repos.search.index("profile", 4, [("Évaluation Montpellier", 3), ("Occitanie", 1)])
        await repos.commit()
    async with db.unit() as repos:
        result = await repos.search.search("profile", "montpellier evaluation")
    assert [(h.doc_id, h.score, h.matched) for h in result.hits] == [
        (4, 9 + 9, ("evaluation", "montpellier")),
        (3, 3 + 6, ("evaluation", "montpellier")),
    ]
    assert await _ids(db, "evaluation occitanie") == [4, 1]
    assert await _ids(db, "prospective occitanie") == []


@pytest.mark.parametrize("together", [True, False], ids=["words-together", "words-apart"])
async def test_filtered_reads_find_what_a_full_read_finds(db: Database, together: bool) -> None:
    # A short filtered read checks the other words as it reads (words that go together)
    # or finds the documents holding every word first, then filters them (words apart):
    # either way, the same documents and scores as the plain filtered read.
    from storage.models.search import SearchTerm

    await _indexed(db)
    async with db.unit() as repos:
        for doc_id in range(4, 40):
            words = "évaluation design" if doc_id % 3 else "évaluation climat"
            await repos.search.index("profile", doc_id, [(f"Agent {doc_id}", 3), (words, 2)])
        await repos.commit()
    # Keyed (prepared once, run by the driver) or not (compiled by SQLAlchemy): both.
    apply = lambda q: q.where(SearchTerm.doc_id % 3 != bindparam("mod"))  # noqa: E731
    not_third = (
        Restrict(lambda q: q.where(SearchTerm.doc_id % 3 != 0))
        if together
        else Restrict(apply, ("test-not-third",), {"mod": 0})
    )
    for query in ("evaluation design", "design evaluation", "evaluation climat", "evaluation"):
        async with db.unit() as repos:
            plain = await repos.search.search("profile", query, limit=50, restrict=not_third)
            short = await repos.search.search(
                "profile", query, limit=5, restrict=not_third, short_read=True, words_together=together
            )
        assert [(h.doc_id, h.score) for h in short.hits] == [(h.doc_id, h.score) for h in plain.hits][:5]
        assert all(h.doc_id % 3 for h in short.hits)
    assert plain.total == 24 + 1  # « evaluation »: docs 4–39 not multiples of 3, and doc 1


async def test_within_finds_what_the_same_filter_in_the_read_finds(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A selective filter's documents read first (`within`) or the filter applied as the
    # postings are read (`restrict`): the same documents, scores and matched terms, and a
    # document holding several terms of a word (« design », « designer ») counted once.
    from storage.models.search import SearchTerm

    await _indexed(db)
    async with db.unit() as repos:
        for doc_id in range(4, 60):
            text = "designer design évaluation" if doc_id % 2 else "design des services"
            await repos.search.index("profile", doc_id, [(f"Agent {doc_id}", 3), (text, 2 + doc_id % 2)])
        await repos.commit()
    within = [d for d in range(1, 60) if d % 4]
    in_read = Restrict(lambda q: q.where(SearchTerm.doc_id % 4 != 0))
    for query in ("design", "desi", "design evaluation", "evaluation design", "services desig"):
        async with db.unit() as repos:
            joined = await repos.search.search("profile", query, limit=60, restrict=in_read)
        # All 44 filtered documents fit in the candidates read, not all their postings.
        monkeypatch.setattr(search_repo, "CANDIDATES", 50)
        async with db.unit() as repos:
            first = await repos.search.search("profile", query, limit=60, within=within)
        monkeypatch.undo()
        assert [(h.doc_id, h.score, h.matched) for h in first.hits] == [
            (h.doc_id, h.score, h.matched) for h in joined.hits
        ]
        assert (first.total, first.complete) == (joined.total, True)
    # More filtered documents than candidates read: a bounded read among them, said so.
    monkeypatch.setattr(search_repo, "MIN_CANDIDATES", 5)
    monkeypatch.setattr(search_repo, "CANDIDATES", 5)
    async with db.unit() as repos:
        bounded = await repos.search.search("profile", "design", limit=3, within=within)
    assert not bounded.complete and len(bounded.hits) == 3
    assert all(h.doc_id in within for h in bounded.hits)


async def test_reindex_and_remove_keep_vocabulary_counts(db: Database) -> None:
    await _indexed(db)
    async with db.unit() as repos:
        await repos.search.index("profile", 2, [("Dominique Durand", 3), ("énergie", 2)])
        await repos.search.remove("profile", 3)
        await repos.commit()
    assert await _ids(db, "prospective") == []
    assert await _ids(db, "energie") == [2]
    assert await _ids(db, "montpellier") == []
    async with db.unit() as repos:
        counts = dict(
            (
                await repos.session.execute(
                    select(SearchVocab.term, SearchVocab.doc_count).where(SearchVocab.kind == "profile")
                )
            ).all()
        )
    assert counts["evaluation"] == 1
    assert "prospective" not in counts  # no document holds it: forgotten, variants too
    assert counts["energie"] == 1
    async with db.unit() as repos:
        variants = set(
            await repos.session.scalars(select(SearchVariant.term).where(SearchVariant.kind == "profile"))
        )
    assert "prospective" not in variants and "evaluation" in variants


async def test_a_forgotten_word_indexed_again_is_found_with_a_typo(db: Database) -> None:
    async with db.unit() as repos:
        await repos.search.index("profile", 1, [("zythologie", 1)])
        await repos.commit()
    async with db.unit() as repos:
        await repos.search.remove("profile", 1)
        await repos.commit()
    assert await _ids(db, "zytologie") == []
    async with db.unit() as repos:
        await repos.search.index("profile", 2, [("zythologie", 1)])
        await repos.commit()
    assert await _ids(db, "zytologie") == [2]
    async with db.unit() as repos:
        assert (
            await repos.session.scalar(
                select(SearchVocab.doc_count).where(
                    SearchVocab.kind == "profile", SearchVocab.term == "zythologie"
                )
            )
            == 1
        )


async def test_restrict_and_paging(db: Database) -> None:
    from storage.models.search import SearchTerm

    await _indexed(db)
    async with db.unit() as repos:
        first_two = Restrict(lambda q: q.where(SearchTerm.doc_id.in_([1, 2])))
        result = await repos.search.search("profile", "evaluation", limit=1, restrict=first_two)
    assert result.total == 1 and result.complete
    assert [h.doc_id for h in result.hits] == [1]
    assert result.hits[0].matched == ("evaluation",)


async def test_a_word_pruned_while_another_unit_indexes_it_is_not_lost(db: Database) -> None:
    """PostgreSQL's units write at once: one removes the last document holding a word
    (and prunes it) while another indexes a new one with it. The word stays, counted once,
    and is found with a typo."""
    if db.is_sqlite:
        pytest.skip("SQLite has one writer at a time")
    async with db.unit() as repos:
        await repos.search.index("profile", 1, [("zythologie", 1)])
        await repos.commit()
    async with db.unit() as removing:
        await removing.search.remove("profile", 1)  # pruned, not committed yet

        async def index_other() -> None:
            async with db.unit() as repos:
                await repos.search.index("profile", 2, [("zythologie", 1)])
                await repos.commit()

        other = asyncio.create_task(index_other())
        await asyncio.sleep(0.5)  # the other unit now waits on the pruned row
        await removing.commit()
    await other
    assert await _ids(db, "zytologie") == [2]
    async with db.unit() as repos:
        count = await repos.session.scalar(
            select(SearchVocab.doc_count).where(
                SearchVocab.kind == "profile", SearchVocab.term == "zythologie"
            )
        )
    assert count == 1
