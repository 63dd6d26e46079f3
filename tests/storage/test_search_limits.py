"""Searches of any size stay cheap and never fail, on SQLite and PostgreSQL."""

from __future__ import annotations

from sqlalchemy import literal, select

from storage.db import Database
from storage.repositories import base
from storage.repositories.search import MAX_QUERY_WORDS, query_words

DOCS = {
    1: [("Camille Martin", 3), ("évaluation des politiques publiques", 2)],
    2: [("Dominique Durand", 3), ("prospective climat", 2)],
}


async def test_hundreds_of_distinct_words_neither_fail_nor_grow_the_statement(db: Database) -> None:
    async with db.unit() as repos:
        await repos.search.index_many("profile", DOCS)
        await repos.commit()
    # 600 distinct words of every length (SQLite refused more than 500 parts in one
    # statement); the first words decide: they match document 2.
    words = ["prospective", "climat"] + [f"mot{i}"[: 2 + i % 6] + str(i) for i in range(600)]
    async with db.unit() as repos:
        result = await repos.search.search("profile", " ".join(words))
    assert len(query_words(" ".join(words))) == MAX_QUERY_WORDS
    assert [h.doc_id for h in result.hits] == []  # every word must match: mot0… do not
    async with db.unit() as repos:
        result = await repos.search.search("profile", "prospective climat " + "climat " * 3000)
    assert [h.doc_id for h in result.hits] == [2]


async def test_the_statements_kept_are_bounded(db: Database) -> None:
    before = dict(base._PREPARED)
    try:
        async with db.unit() as repos:
            connection = await repos.session.connection()
            for i in range(base.PREPARED_KEPT + 50):
                rows = await base.fetch_prepared(
                    connection, ("limits-test", i), lambda i=i: select(literal(i).label("n")), {}
                )
                assert rows[0][0] == i
        assert len(base._PREPARED) <= base.PREPARED_KEPT
    finally:
        base._PREPARED.clear()
        base._PREPARED.update(before)
