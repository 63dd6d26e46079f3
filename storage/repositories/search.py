"""Search over any aggregate through the shared inverted index.

A document is indexed as weighted texts (`index_many(kind, {doc_id: [(text, weight)]})`).
A query matches documents holding every query word (AND), where a word matches a term
that is equal (score 3), starts with it (2, words of 2+ letters), or is one edit away
(1, words of 4+ letters: « evaluaton » finds « évaluation »; when the word as typed is
itself indexed, only neighbours more frequent than it). Accents and case never
matter. A word's score is its best match times the field weight; a document's score is
the sum over the query words; ties go to the most recent document (highest id)."""

from __future__ import annotations

import heapq
from collections import defaultdict
from collections.abc import Callable, Collection, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar, cast

from sqlalchemy import (
    Table,
    bindparam,
    delete,
    literal_column,
    select,
    true,
    union_all,
    update,
)

from bot.text import edit_distance, words
from storage.models.search import SearchTerm, SearchVariant, SearchVocab
from storage.repositories.base import Repository, fetch_prepared

MAX_TERM = 64
MIN_PREFIX = 2
MIN_TYPO = 4
MAX_EXPANSION = 20  # prefix expansions kept per query word (most frequent first)
# Words of one query that take part in matching, the first ones: every word must match,
# so more only narrow a search nobody types; each costs a part of the statements (SQLite
# refuses more than 500 in one) and makes a new statement shape.
MAX_QUERY_WORDS = 8
CANDIDATES = 2000  # postings read for the rarest query word, at most
# For a short page fewer suffice: the read is best weight first, so the first pages are
# the same; `total` is then a lower bound sooner (« plus de 500 »).
MIN_CANDIDATES, CANDIDATES_PER_RESULT = 500, 50
# With `restrict` and `short_read` (broad filters joined to each posting read), fewer:
# « plus de 40 » sooner, in return for not probing the filters of thousands of postings.
FILTERED_CANDIDATES_PER_RESULT = 5
# Words that seldom meet, with filters: postings of the rarest word read (no filter) to
# find the documents holding every word, before the filters are applied to those.
SPARSE_CANDIDATES = 4000
# Checking the other words on the candidates: a term with at most this many postings
# per candidate is read whole (sequential index entries, about a tenth of the cost of a
# lookup each) rather than looked up once per candidate.
SCAN_PER_CANDIDATE = 8
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
    """The words of a query that take part in matching (`MAX_QUERY_WORDS` at most)."""
    return terms_of(text)[:MAX_QUERY_WORDS]


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


@dataclass(frozen=True)
class Restrict:
    """Joins/conditions added to the postings SELECT (`apply`; typed loosely: Select's
    generics differ between SQLAlchemy 2.0 and 2.1). With a `key` naming its shape —
    only the named bind parameters in `params` vary — the statement is compiled once and
    run by the driver; without, SQLAlchemy builds, compiles (and caches) it each time."""

    apply: Callable[[Any], Any]
    key: Hashable | None = None
    params: Mapping[str, Any] = field(default_factory=dict)


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
        if sign > 0 and self.dialect == "postgresql":
            await self._add_counts(kind, counts)
            return
        if sign > 0:  # SQLite: one writer at a time, so read, then write
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
            await self._add_variants(kind, new)
        # One statement, executed for every term (the driver's executemany); in one order
        # for every unit, so two units touching the same words wait instead of deadlocking.
        table = cast(Table, SearchVocab.__table__)
        stmt = (
            update(table)
            .where(table.c.kind == bindparam("k"), table.c.term == bindparam("t"))
            .values(doc_count=table.c.doc_count + bindparam("d"))
        )
        params = [{"k": kind, "t": term, "d": sign * counts[term]} for term in sorted(counts)]
        connection = await self.session.connection()
        await connection.execute(stmt, params)
        if sign < 0:
            await self._prune(kind, sorted(counts))

    async def _add_counts(self, kind: str, counts: Mapping[str, int]) -> None:
        """PostgreSQL, where units write concurrently: count new documents for these words
        in one statement, the words sent as arrays (prepared once by the driver). The row
        is created or its count raised whatever another unit did meanwhile (a word whose
        last document another unit just removed, and pruned, comes back); a word counted
        from nothing gets its variants."""
        terms = sorted(counts)
        connection = await self.session.connection()
        driver: Any = (await connection.get_raw_connection()).driver_connection
        rows = await driver.fetch(
            "INSERT INTO search_vocab (kind, term, doc_count)"
            " SELECT $1, u.t, u.d FROM unnest($2::text[], $3::int[]) AS u(t, d)"
            " ON CONFLICT (kind, term) DO UPDATE SET doc_count = search_vocab.doc_count + EXCLUDED.doc_count"
            " RETURNING term, doc_count",
            kind,
            terms,
            [counts[t] for t in terms],
        )
        await self._add_variants(kind, [r["term"] for r in rows if r["doc_count"] == counts[r["term"]]])

    async def _add_variants(self, kind: str, terms: Iterable[str]) -> None:
        variants = [
            {"kind": kind, "variant": v, "term": t} for t in terms if len(t) >= MIN_TYPO for v in deletions(t)
        ]
        await self.bulk_insert(
            SearchVariant.__table__,  # type: ignore[arg-type]
            variants,
            ["kind", "variant", "term"],
        )

    async def _prune(self, kind: str, terms: Sequence[str]) -> None:
        """Forget the words no document holds any more, and their variants: a word stays
        in the vocabulary only while something indexed says it (a profile's words are
        personal data, gone with the profile). A word indexed again later comes back
        with its variants (`_count`)."""
        vocab = cast(Table, SearchVocab.__table__)
        for chunk in _chunks(terms, 500):
            gone = vocab.c.kind == kind, vocab.c.term.in_(chunk), vocab.c.doc_count <= 0
            if self.session.get_bind().dialect.delete_returning:
                # One statement: what it deleted is exactly what it returns, even with a
                # concurrent unit indexing the same word again (its row lock is waited for).
                result = await self.session.execute(delete(vocab).where(*gone).returning(vocab.c.term))
                dropped = list(result.scalars())
            else:  # SQLite < 3.35: one writer at a time anyway
                dropped = list(await self.session.scalars(select(vocab.c.term).where(*gone)))
                await self.session.execute(delete(vocab).where(*gone))
            rows = [{"k": kind, "v": v, "t": t} for t in dropped if len(t) >= MIN_TYPO for v in deletions(t)]
            if rows:
                variants = cast(Table, SearchVariant.__table__)
                connection = await self.session.connection()
                await connection.execute(
                    delete(variants).where(
                        variants.c.kind == bindparam("k"),
                        variants.c.variant == bindparam("v"),
                        variants.c.term == bindparam("t"),
                    ),
                    rows,
                )

    # --- reading --------------------------------------------------------------------
    def _expansion_statement(self, prefixed: Sequence[int], typos: bool) -> Any:
        """The statement of `expand_all`, with the query words as parameters: per word of
        `prefixed` (positions), its most frequent prefix expansions (src = position);
        then (src = -1) the terms equal to a word or a probe, and with `typos` those
        sharing a one-deletion variant with a word."""
        vocab = cast(Table, SearchVocab.__table__)
        variants = cast(Table, SearchVariant.__table__)
        kind: Any = bindparam("kind")
        parts: list[Any] = []
        for i in prefixed:
            ranked = (
                select(vocab.c.term, vocab.c.doc_count, literal_column(str(i)).label("src"))
                .where(
                    vocab.c.kind == kind,
                    vocab.c.term >= bindparam(f"low{i}"),
                    vocab.c.term < bindparam(f"high{i}"),
                    vocab.c.doc_count > 0,
                )
                .order_by(vocab.c.doc_count.desc())
                .limit(MAX_EXPANSION)
                .subquery()
            )
            parts.append(select(ranked.c.term, ranked.c.doc_count, ranked.c.src))
        parts.append(
            select(vocab.c.term, vocab.c.doc_count, literal_column("-1").label("src")).where(
                vocab.c.kind == kind,
                self._listed(vocab.c.term, "equal", vocab.c.term.type),
                vocab.c.doc_count > 0,
            )
        )
        if typos:
            parts.append(
                select(vocab.c.term, vocab.c.doc_count, literal_column("-1").label("src"))
                .select_from(
                    variants.join(
                        vocab, (vocab.c.kind == variants.c.kind) & (vocab.c.term == variants.c.term)
                    )
                )
                .where(
                    variants.c.kind == kind,
                    self._listed(variants.c.variant, "probes", variants.c.variant.type),
                    vocab.c.doc_count > 0,
                )
            )
        return union_all(*parts) if len(parts) > 1 else parts[0]

    async def expand(self, kind: str, word: str) -> list[tuple[str, int, int]]:
        """Index terms a query word matches: (term, match score, documents holding it),
        best match first, then most frequent."""
        return (await self.expand_all(kind, [word]))[0]

    async def expand_all(self, kind: str, qwords: Sequence[str]) -> list[list[tuple[str, int, int]]]:
        """`expand` for every word of a query, in one statement: per word, its most
        frequent prefix expansions (`MAX_EXPANSION`); for all words at once, the terms
        equal to a word or to one of its one-deletion probes, and the terms sharing a
        one-deletion variant with a word (SymSpell); then sorted out per word here."""
        prefixed = tuple(i for i, w in enumerate(qwords) if len(w) >= MIN_PREFIX)
        typo_words = [w for w in qwords if len(w) >= MIN_TYPO]
        probes = {p for w in typo_words for p in deletions(w)}
        params: dict[str, Any] = {"kind": kind, "equal": self._list_param(set(qwords) | probes)}
        for i in prefixed:
            params[f"low{i}"], params[f"high{i}"] = qwords[i], qwords[i] + "\uffff"
        if typo_words:
            params["probes"] = self._list_param(probes | set(typo_words))
        connection = await self.session.connection()
        rows = await fetch_prepared(
            connection,
            ("expand", prefixed, bool(typo_words)),
            lambda: self._expansion_statement(prefixed, bool(typo_words)),
            params,
        )
        out: list[list[tuple[str, int, int]]] = []
        for i, word in enumerate(qwords):
            found: dict[str, tuple[int, int]] = {}
            for term, count, src in rows:
                if src == i:
                    found[term] = (EXACT if term == word else PREFIX, count)
            for term, count, src in rows:
                if src != -1 or term in found:
                    continue
                if term == word:
                    found[term] = (EXACT, count)
                elif len(word) >= MIN_TYPO and edit_distance(word, term, 1) <= 1:
                    found[term] = (TYPO, count)
            typed = found.get(word)
            if typed is not None:
                # The word as typed is a known term: a neighbour one edit away is kept
                # only when more frequent, as a misspelling's correction would be
                # (« evaluaton », in one profile by mistake, still finds « évaluation »);
                # rarer ones are other words (« velo » is not « veto », « vela »).
                found = {t: (sc, n) for t, (sc, n) in found.items() if sc != TYPO or n > typed[1]}
            out.append(
                sorted(((t, sc, n) for t, (sc, n) in found.items()), key=lambda x: (-x[1], -x[2], x[0]))
            )
        return out

    async def search(
        self,
        kind: str,
        text: str,
        *,
        limit: int = 20,
        offset: int = 0,
        restrict: Restrict | None = None,
        within: Collection[int] | None = None,
        short_read: bool = False,
        words_together: bool = False,
    ) -> SearchResult:
        """Documents matching every word of `text`, best first.

        The rarest query word gives the candidates: its postings are read best weight
        first, at most `CANDIDATES` of them (an index range scan, whatever the size of the
        index); the other words are then checked on those candidates only, all in one
        statement. A word as common as « innovation » in 100 000 profiles thus costs a
        bounded read, and the result says `complete=False` (« more than N »). `restrict`
        adds joins/conditions to the postings query (visibility, filters) so they apply
        before the bound. Three round trips in all: expansions, candidates, the check.

        `within` (the documents passing a selective filter) limits the search to them:
        the candidates are looked up among them directly, instead of scanning
        a common word's postings for the few that pass a filter. `short_read`: with
        `restrict`, read `FILTERED_CANDIDATES_PER_RESULT` candidates per result shown, and
        read again as widely as without it only when that leaves the page short — for
        broad filters, which rarely do; selective ones would read twice. With
        `words_together` (a query's words usually go together in a document, as a
        profile's topics do), the short read keeps only candidates holding every word,
        checked as it reads: it then rarely comes out short, but when the words seldom
        meet, it walks the rarest word's whole posting list."""
        qwords = query_words(text)
        if not qwords or (within is not None and not within):
            return SearchResult([], 0, True)
        expansions = await self.expand_all(kind, qwords)
        if any(not e for e in expansions):
            return SearchResult([], 0, True)
        shown = offset + limit
        wide = min(CANDIDATES, max(MIN_CANDIDATES, CANDIDATES_PER_RESULT * shown))
        if short_read and restrict is not None:
            if len(qwords) > 1 and not words_together:
                # Words that seldom meet: their few common documents first, among
                # `SPARSE_CANDIDATES` postings of the rarest word (about as many as a
                # filtered read would walk to find `CANDIDATES_PER_RESULT` per result),
                # then the filters on those alone.
                scores, matched, complete = await self._candidates(
                    kind, expansions, SPARSE_CANDIDATES, None, within
                )
                scores = await self._passing(kind, expansions, scores, restrict)
                return _page(scores, matched, complete, offset, limit)
            short = min(CANDIDATES, FILTERED_CANDIDATES_PER_RESULT * shown)
            scores, matched, complete = await self._candidates(
                kind, expansions, short, restrict, within, check_in_read=words_together
            )
            if complete or len(scores) >= shown:
                return _page(scores, matched, complete, offset, limit)
            # The read left too few matches to fill the page: read as much as an
            # unfiltered search would, the filters applied as it reads.
        scores, matched, complete = await self._candidates(kind, expansions, wide, restrict, within)
        return _page(scores, matched, complete, offset, limit)

    async def _passing(
        self,
        kind: str,
        expansions: Sequence[Sequence[tuple[str, int, int]]],
        scores: dict[int, int],
        restrict: Restrict,
    ) -> dict[int, int]:
        """The scored documents that pass `restrict`: their postings of the rarest word
        (each document has one) read through its joins/conditions."""
        if not scores:
            return scores
        rarest = expansions[_by_rarity(expansions)[0]]
        postings = cast(Table, SearchTerm.__table__)

        def build() -> Any:
            return restrict.apply(
                select(postings.c.doc_id).where(
                    postings.c.kind == bindparam("kind"),
                    self._listed(postings.c.term, "terms", postings.c.term.type),
                    self._listed(postings.c.doc_id, "docs", postings.c.doc_id.type),
                )
            )

        params = {
            "kind": kind,
            "terms": self._list_param(t for t, _, _ in rarest),
            "docs": self._list_param(scores),
        }
        connection = await self.session.connection()
        rows: Sequence[Any]
        if restrict.key is not None:
            shape = ("passing", restrict.key)
            rows = await fetch_prepared(connection, shape, build, {**params, **restrict.params})
        else:
            rows = (await connection.execute(build(), params)).all()
        passing = {row[0] for row in rows}
        return {d: s for d, s in scores.items() if d in passing}

    async def _candidates(
        self,
        kind: str,
        expansions: Sequence[Sequence[tuple[str, int, int]]],
        bound: int,
        restrict: Restrict | None,
        within: Collection[int] | None,
        *,
        check_in_read: bool = False,
    ) -> tuple[dict[int, int], list[tuple[int, str]], bool]:
        """Scores and matched terms of the documents matching every query word among at
        most `bound` candidates of the rarest word; and whether those were all.
        `check_in_read`: the candidates read are only documents holding the other words
        too (a probe per posting read: for short reads, where the filters cut most)."""
        order = _by_rarity(expansions)
        in_read = [[t for t, _, _ in expansions[i]] for i in order[1:]] if check_in_read else []
        scores: dict[int, int] = {}
        # (document, term) pairs, turned into each shown document's terms by `_page`
        # only: thousands of candidates, a page of hits.
        matched: list[tuple[int, str]] = []
        complete = True
        # Terms whose documents all fit are read in one query; a term with more postings
        # than the room left is read best weight first, up to the bound.
        batch: list[tuple[str, int]] = []
        batch_size = 0
        groups: list[tuple[list[tuple[str, int]], bool]] = []
        if within is not None and len(within) <= bound:
            # Every document of `within` fits: all the terms in one read, among them.
            groups.append(([(t, m) for t, m, _ in expansions[order[0]]], False))
        else:
            # Among `within` documents, a term has at most as many postings as there are.
            most = len(within) if within is not None else None
            for term, match, count in expansions[order[0]]:
                if most is not None:
                    count = min(count, most)
                if batch_size + count <= bound:
                    batch.append((term, match))
                    batch_size += count
                else:
                    groups.append(([(term, match)], True))
            if batch:
                groups.insert(0, (batch, False))
        connection = await self.session.connection()
        for terms, bounded in groups:
            room = bound - len(scores)
            if room <= 0:
                complete = False
                break
            match_of = dict(terms)
            rows = await self._postings(
                connection, kind, match_of, within, room + 1 if bounded else None, restrict, in_read
            )
            if bounded and len(rows) > room:
                complete = False
                rows = rows[:room]
            for doc_id, term, weight in rows:
                score = match_of[term] * weight
                if score > scores.get(doc_id, 0):
                    scores[doc_id] = score
                matched.append((doc_id, term))
        others = order[1:]
        if scores and others:
            # Every other word's terms on the candidates, in one statement.
            # A term with few postings is cheaper read whole (then kept for the candidates)
            # than probed once per candidate.
            few = SCAN_PER_CANDIDATE * len(scores)
            scan: set[str] = set()
            probe: set[str] = set()
            for i in others:
                for t, _, n in expansions[i]:
                    (scan if n <= few else probe).add(t)
            params = {"kind": kind, "docs": self._list_param(scores)}
            if scan:
                params["scan"] = self._list_param(scan)
            if probe:
                params["probe"] = self._list_param(probe)
            check = await fetch_prepared(
                connection,
                ("check", bool(scan), bool(probe)),
                lambda: self._check_statement(bool(scan), bool(probe)),
                params,
            )
            found: dict[str, list[tuple[int, int]]] = defaultdict(list)
            for doc_id, term, weight in check:
                found[term].append((doc_id, weight))
            for i in others:
                best: dict[int, int] = {}
                for term, match, _ in expansions[i]:
                    for doc_id, weight in found.get(term, ()):
                        if doc_id in scores:
                            best[doc_id] = max(best.get(doc_id, 0), match * weight)
                            matched.append((doc_id, term))
                scores = {d: s + best[d] for d, s in scores.items() if d in best}
        return scores, matched, complete

    async def _postings(
        self,
        connection: Any,
        kind: str,
        terms: Collection[str],
        within: Collection[int] | None,
        limit: int | None,
        restrict: Restrict | None,
        others: Sequence[Sequence[str]] = (),
    ) -> Sequence[Any]:
        """(doc_id, term, weight) of the terms' postings, best weight first when
        `limit`ed; with `others` (each a word's terms, needs `restrict`), only of
        documents holding one term of each. Without `restrict`, a statement prepared
        once per shape."""
        postings = cast(Table, SearchTerm.__table__)
        # Among `within` documents, terms as a list even when one: as `term = :term`,
        # PostgreSQL's planner reads the term's whole posting list and filters it by
        # document (7 ms for a common word) instead of one lookup per document (2 ms).
        single = len(terms) == 1 and within is None

        def build() -> Any:
            query = select(postings.c.doc_id, postings.c.term, postings.c.weight).where(
                postings.c.kind == bindparam("kind"),
                postings.c.term == bindparam("term")
                if single
                else self._listed(postings.c.term, "terms", postings.c.term.type),
            )
            if within is not None:
                query = query.where(self._listed(postings.c.doc_id, "within", postings.c.doc_id.type))
            if limit is not None:
                query = query.order_by(postings.c.weight.desc(), postings.c.doc_id.desc())
                query = query.limit(bindparam("limit"))
            return query

        params: dict[str, Any] = {"kind": kind}
        if limit is not None:
            params["limit"] = limit
        if single:
            params["term"] = next(iter(terms))
        else:
            params["terms"] = self._list_param(terms)
        if within is not None:
            params["within"] = self._list_param(within)
        key = ("postings", single, within is not None, limit is not None)
        if restrict is None:
            return await fetch_prepared(connection, key, build, params)

        def restricted() -> Any:
            # The other words are probed after the filters, on the postings passing them.
            query = restrict.apply(build())
            for i in range(len(others)):
                query = self._holding(query, postings, i)
            return query

        for i, other_terms in enumerate(others):
            params[f"other{i}"] = self._list_param(other_terms)
        if restrict.key is not None:
            shape = (*key, restrict.key, len(others))
            return await fetch_prepared(connection, shape, restricted, {**params, **restrict.params})
        return (await connection.execute(restricted(), params)).all()

    def _holding(self, query: Any, postings: Table, i: int) -> Any:
        """`query` (over postings) limited to documents holding one of the terms
        `:other{i}`. PostgreSQL: a LATERAL probe that stops at the first term found
        (as a plain join or EXISTS, the planner may hash whole posting lists instead of
        walking the rarest one best first). SQLite: a join, which its planner runs in
        the written order (in EXISTS, the list would be decoded again per posting); a
        document holding two of the terms then comes twice."""
        other = postings.alias(f"other{i}")
        holds = (
            (other.c.kind == postings.c.kind)
            & (other.c.doc_id == postings.c.doc_id)
            & self._listed(other.c.term, f"other{i}", other.c.term.type)
        )
        if self.dialect == "postgresql":
            probe: Any = select(literal_column("1").label("found")).select_from(other).where(holds).limit(1)
            return query.join(probe.lateral(f"holds{i}"), true())
        return query.join(other, holds)

    def _check_statement(self, scan: bool, probe: bool) -> Any:
        """The postings of the terms `:scan` and `:probe` on the documents `:docs`: those
        of `:scan` read whole, each kept if its document is listed (`doc_id + 0`: not
        an index condition, so neither engine turns it into a probe per document);
        those of `:probe` looked up per document in the index. Only the parts with
        terms are in the statement: planning `:docs` (thousands of ids) for an empty
        part cost PostgreSQL a millisecond."""
        postings = cast(Table, SearchTerm.__table__)
        columns = (postings.c.doc_id, postings.c.term, postings.c.weight)
        doc_type = postings.c.doc_id.type
        parts: list[Any] = []
        if scan:
            parts.append(
                select(*columns).where(
                    postings.c.kind == bindparam("kind"),
                    self._listed(postings.c.term, "scan", postings.c.term.type),
                    self._listed(postings.c.doc_id + 0, "docs", doc_type),
                )
            )
        if probe:
            parts.append(
                select(*columns).where(
                    postings.c.kind == bindparam("kind"),
                    self._listed(postings.c.term, "probe", postings.c.term.type),
                    self._listed(postings.c.doc_id, "docs", doc_type),
                )
            )
        return union_all(*parts) if len(parts) > 1 else parts[0]

    async def erase_kind(self, kind: str) -> None:
        for model in (SearchTerm, SearchVocab, SearchVariant):
            await self.session.execute(delete(model).where(model.kind == kind))


def _by_rarity(expansions: Sequence[Sequence[tuple[str, int, int]]]) -> list[int]:
    """Query word positions, the word whose terms are in the fewest documents first."""
    return sorted(range(len(expansions)), key=lambda i: sum(n for _, _, n in expansions[i]))


def _page(
    scores: Mapping[int, int],
    matched: Iterable[tuple[int, str]],
    complete: bool,
    offset: int,
    limit: int,
) -> SearchResult:
    """Only the page is sorted: best score first, then the most recent document."""
    top = heapq.nsmallest(offset + limit, scores.items(), key=lambda x: (-x[1], -x[0]))[offset:]
    terms: dict[int, set[str]] = {d: set() for d, _ in top}
    for doc_id, term in matched:
        if doc_id in terms:
            terms[doc_id].add(term)
    hits = [Hit(d, s, tuple(sorted(terms[d]))) for d, s in top]
    return SearchResult(hits, len(scores), complete)


T = TypeVar("T")


def _chunks(items: Iterable[T], size: int) -> list[list[T]]:
    seq = list(items)
    return [seq[i : i + size] for i in range(0, len(seq), size)]
