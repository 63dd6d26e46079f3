"""Search over any aggregate through the shared inverted index.

A document is indexed as weighted texts (`index_many(kind, {doc_id: [(text, weight)]})`).
A query matches documents holding every query word (AND), where a word matches a term
that is equal (score 3), starts with it (2, words of 2+ letters), or is one edit away
(1, words of 4+ letters: « evaluaton » finds « évaluation »). Accents and case never
matter. A word's score is its best match times the field weight; a document's score is
the sum over the query words; ties go to the most recent document (highest id)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar, cast

from sqlalchemy import Table, bindparam, delete, select, update

from bot.text import edit_distance, words
from storage.models.search import SearchTerm, SearchVariant, SearchVocab
from storage.repositories.base import Repository

MAX_TERM = 64
MIN_PREFIX = 2
MIN_TYPO = 4
MAX_EXPANSION = 20  # prefix expansions kept per query word (most frequent first)
CANDIDATES = 2000  # postings read for the rarest query word
EXACT, PREFIX, TYPO = 3, 2, 1

# Words too common to help a search (French and English).
STOPWORDS = frozenset(
    {
        *("a", "au", "aux", "avec", "ce", "ces", "d", "dans", "de", "des", "du", "en", "et", "est"),
        *("il", "elle", "l", "la", "le", "les", "leur", "mais", "ou", "par", "pour", "qu", "que"),
        *("qui", "sa", "se", "ses", "son", "sur", "un", "une"),
        *("the", "of", "and", "or", "to", "in", "on", "for", "with", "at", "by", "an", "is"),
    }
)


def terms_of(text: str) -> list[str]:
    """Folded, de-duplicated index terms of a text (stopwords dropped)."""
    seen: dict[str, None] = {}
    for w in words(text):
        if w not in STOPWORDS:
            seen.setdefault(w[:MAX_TERM], None)
    return list(seen)


def query_words(text: str) -> list[str]:
    """The words of a query that take part in matching."""
    return terms_of(text)


def deletions(word: str) -> set[str]:
    return {word[:i] + word[i + 1 :] for i in range(len(word))}


@dataclass(frozen=True)
class Hit:
    doc_id: int
    score: int
    matched: tuple[str, ...]  # index terms that matched, for display


@dataclass(frozen=True)
class SearchResult:
    hits: list[Hit]
    total: int  # matches found; a lower bound when `complete` is False
    complete: bool


Document = Sequence[tuple[str, int]]  # (text, weight) pairs
# Adds joins/conditions to a postings SELECT (typed loosely: Select's generics differ
# between SQLAlchemy 2.0 and 2.1).
Restrict = Callable[[Any], Any]


class SearchRepository(Repository):
    # --- writing --------------------------------------------------------------------
    async def index(self, kind: str, doc_id: int, fields: Document) -> None:
        await self.index_many(kind, {doc_id: fields})

    async def index_many(self, kind: str, docs: Mapping[int, Document]) -> None:
        """(Re)index documents: their previous terms are replaced."""
        if not docs:
            return
        wanted: dict[int, dict[str, int]] = {}
        for doc_id, fields in docs.items():
            weights: dict[str, int] = {}
            for text, weight in fields:
                for term in terms_of(text or ""):
                    weights[term] = max(weights.get(term, 0), weight)
            wanted[doc_id] = weights
        old = await self._terms_of_docs(kind, list(docs))
        added: dict[str, int] = defaultdict(int)
        removed: dict[str, int] = defaultdict(int)
        rows: list[dict[str, object]] = []
        for doc_id, weights in wanted.items():
            before = old.get(doc_id, set())
            for term in before - set(weights):
                removed[term] += 1
            for term in set(weights) - before:
                added[term] += 1
            rows.extend({"kind": kind, "term": t, "doc_id": doc_id, "weight": w} for t, w in weights.items())
        await self._delete_docs(kind, list(docs))
        await self.bulk_insert(SearchTerm.__table__, rows)  # type: ignore[arg-type]
        await self._count(kind, added, +1)
        await self._count(kind, removed, -1)

    async def remove(self, kind: str, doc_id: int) -> None:
        old = await self._terms_of_docs(kind, [doc_id])
        await self._delete_docs(kind, [doc_id])
        await self._count(kind, {t: 1 for t in old.get(doc_id, set())}, -1)

    async def _terms_of_docs(self, kind: str, doc_ids: list[int]) -> dict[int, set[str]]:
        out: dict[int, set[str]] = defaultdict(set)
        for chunk in _chunks(doc_ids, 500):
            result = await self.session.execute(
                select(SearchTerm.doc_id, SearchTerm.term).where(
                    SearchTerm.kind == kind, SearchTerm.doc_id.in_(chunk)
                )
            )
            for doc_id, term in result:
                out[doc_id].add(term)
        return out

    async def _delete_docs(self, kind: str, doc_ids: list[int]) -> None:
        for chunk in _chunks(doc_ids, 500):
            await self.session.execute(
                delete(SearchTerm).where(SearchTerm.kind == kind, SearchTerm.doc_id.in_(chunk))
            )

    async def _count(self, kind: str, counts: Mapping[str, int], sign: int) -> None:
        if not counts:
            return
        if sign > 0:
            known: set[str] = set()
            for chunk in _chunks(list(counts), 500):
                known.update(
                    await self.session.scalars(
                        select(SearchVocab.term).where(SearchVocab.kind == kind, SearchVocab.term.in_(chunk))
                    )
                )
            new = set(counts) - known
            await self.bulk_insert(
                SearchVocab.__table__,  # type: ignore[arg-type]
                [{"kind": kind, "term": t, "doc_count": 0} for t in new],
                ["kind", "term"],
            )
            variants = [
                {"kind": kind, "variant": v, "term": t}
                for t in new
                if len(t) >= MIN_TYPO
                for v in deletions(t)
            ]
            await self.bulk_insert(
                SearchVariant.__table__,  # type: ignore[arg-type]
                variants,
                ["kind", "variant", "term"],
            )
        # One statement, executed for every term (the driver's executemany).
        table = cast(Table, SearchVocab.__table__)
        stmt = (
            update(table)
            .where(table.c.kind == bindparam("k"), table.c.term == bindparam("t"))
            .values(doc_count=table.c.doc_count + bindparam("d"))
        )
        params = [{"k": kind, "t": term, "d": sign * n} for term, n in counts.items()]
        connection = await self.session.connection()
        await connection.execute(stmt, params)

    # --- reading --------------------------------------------------------------------
    async def expand(self, kind: str, word: str) -> list[tuple[str, int, int]]:
        """Index terms a query word matches: (term, match score, documents holding it),
        best match first, then most frequent."""
        found: dict[str, tuple[int, int]] = {}
        if len(word) >= MIN_PREFIX:
            prefixed = await self.session.execute(
                select(SearchVocab.term, SearchVocab.doc_count)
                .where(
                    SearchVocab.kind == kind,
                    SearchVocab.term >= word,
                    SearchVocab.term < word + "\uffff",
                    SearchVocab.doc_count > 0,
                )
                .order_by(SearchVocab.doc_count.desc())
                .limit(MAX_EXPANSION)
            )
            for term, count in prefixed:
                found[term] = (EXACT if term == word else PREFIX, count)
        if word not in found:
            exact = await self.session.scalar(
                select(SearchVocab.doc_count).where(
                    SearchVocab.kind == kind, SearchVocab.term == word, SearchVocab.doc_count > 0
                )
            )
            if exact:
                found[word] = (EXACT, exact)
        if len(word) >= MIN_TYPO:
            probes = deletions(word)
            near = set(
                await self.session.scalars(
                    select(SearchVariant.term).where(
                        SearchVariant.kind == kind, SearchVariant.variant.in_(probes | {word})
                    )
                )
            )
            near.update(probes)  # the query word has one letter too many
            near = {t for t in near if t not in found and edit_distance(word, t, 1) <= 1}
            if near:
                counts = await self.session.execute(
                    select(SearchVocab.term, SearchVocab.doc_count).where(
                        SearchVocab.kind == kind, SearchVocab.term.in_(near), SearchVocab.doc_count > 0
                    )
                )
                for term, count in counts:
                    found[term] = (TYPO, count)
        return sorted(((t, sc, n) for t, (sc, n) in found.items()), key=lambda x: (-x[1], -x[2], x[0]))

    async def search(
        self,
        kind: str,
        text: str,
        *,
        limit: int = 20,
        offset: int = 0,
        restrict: Restrict | None = None,
    ) -> SearchResult:
        """Documents matching every word of `text`, best first.

        The rarest query word gives the candidates: its postings are read best weight
        first, at most `CANDIDATES` of them (an index range scan, whatever the size of the
        index); the other words are then checked on those candidates only. A word as
        common as « innovation » in 100 000 profiles thus costs a bounded read, and the
        result says `complete=False` (« more than N »). `restrict` adds joins/conditions
        to the postings query (visibility, filters) so they apply before the bound."""
        qwords = query_words(text)
        if not qwords:
            return SearchResult([], 0, True)
        expansions = [await self.expand(kind, w) for w in qwords]
        if any(not e for e in expansions):
            return SearchResult([], 0, True)
        order = sorted(range(len(qwords)), key=lambda i: sum(n for _, _, n in expansions[i]))
        scores: dict[int, int] = {}
        matched: dict[int, set[str]] = defaultdict(set)
        complete = True
        # Terms whose documents all fit are read in one query; a term with more postings
        # than the room left is read best weight first, up to the bound.
        batch: list[tuple[str, int]] = []
        batch_size = 0
        groups: list[tuple[list[tuple[str, int]], bool]] = []
        for term, match, count in expansions[order[0]]:
            if batch_size + count <= CANDIDATES:
                batch.append((term, match))
                batch_size += count
            else:
                groups.append(([(term, match)], True))
        if batch:
            groups.insert(0, (batch, False))
        for terms, bounded in groups:
            room = CANDIDATES - len(scores)
            if room <= 0:
                complete = False
                break
            match_of = dict(terms)
            query = select(SearchTerm.doc_id, SearchTerm.term, SearchTerm.weight).where(
                SearchTerm.kind == kind, SearchTerm.term.in_(list(match_of))
            )
            if bounded:
                query = query.order_by(SearchTerm.weight.desc(), SearchTerm.doc_id.desc()).limit(room + 1)
            result = await self.session.execute(restrict(query) if restrict else query)
            rows = list(result.all())
            if len(rows) > room:
                complete = False
                rows = rows[:room]
            for doc_id, term, weight in rows:
                scores[doc_id] = max(scores.get(doc_id, 0), match_of[term] * weight)
                matched[doc_id].add(term)
        for i in order[1:]:
            if not scores:
                break
            match_of = {t: m for t, m, _ in expansions[i]}
            best: dict[int, int] = {}
            for chunk in _chunks(list(scores), 1000):
                postings = await self.session.execute(
                    select(SearchTerm.doc_id, SearchTerm.term, SearchTerm.weight).where(
                        SearchTerm.kind == kind,
                        SearchTerm.term.in_(list(match_of)),
                        SearchTerm.doc_id.in_(chunk),
                    )
                )
                for doc_id, term, weight in postings:
                    best[doc_id] = max(best.get(doc_id, 0), match_of[term] * weight)
                    matched[doc_id].add(term)
            scores = {d: s + best[d] for d, s in scores.items() if d in best}
        ranked = sorted(scores.items(), key=lambda x: (-x[1], -x[0]))
        page = ranked[offset : offset + limit]
        hits = [Hit(d, s, tuple(sorted(matched[d]))) for d, s in page]
        return SearchResult(hits, len(ranked), complete)

    async def erase_kind(self, kind: str) -> None:
        for model in (SearchTerm, SearchVocab, SearchVariant):
            await self.session.execute(delete(model).where(model.kind == kind))


T = TypeVar("T")


def _chunks(items: Iterable[T], size: int) -> list[list[T]]:
    seq = list(items)
    return [seq[i : i + size] for i in range(0, len(seq), size)]
