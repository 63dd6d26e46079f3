"""Text helpers shared by the parser and the features: accent folding and edit distance."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass

_WORD = re.compile(r"[\w]+(?:[-'’][\w]+)*", re.UNICODE)


def fold(text: str) -> str:
    """Lower-case, accent-free form used to compare what people type:
    « Évaluation » and « evaluation » fold to the same string."""
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return stripped.casefold().replace("’", "'")


def fold_words(text: str) -> str:
    """Folded, with hyphens, apostrophes, dots and runs of spaces made one space: how
    names, kinds and facet values are compared."""
    return re.sub(r"[\s\-_'’.]+", " ", fold(text)).strip()


def facet_value(value: str) -> str:
    """How a facet value (a territory, a kind, a tag) is stored and compared: folded."""
    return fold_words(value)[:200]


def words(text: str) -> list[str]:
    """Folded words of a text (hyphenated and elided words split into parts)."""
    return [w for w in re.split(r"[^\w]+", fold(text)) if w]


def edit_distance(a: str, b: str, limit: int | None = None) -> int:
    """Levenshtein distance with transpositions counted as one edit (Damerau, optimal
    string alignment). Stops early once every path exceeds `limit`."""
    if a == b:
        return 0
    if limit is not None and abs(len(a) - len(b)) > limit:
        return limit + 1
    prev2: list[int] = []
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            cost = 0 if ca == cb else 1
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                cur[j] = min(cur[j], prev2[j - 2] + 1)
        if limit is not None and min(cur) > limit:
            return limit + 1
        prev2, prev = prev, cur
    return prev[-1]


def closest(word: str, candidates: list[str], max_distance: int = 2) -> str | None:
    """The candidate nearest to `word` (folded), if within `max_distance` edits; a
    candidate that starts with the word wins ties."""
    target = fold(word)
    best: tuple[int, int, str] | None = None
    for cand in candidates:
        folded = fold(cand)
        dist = (
            0
            if folded.startswith(target) and len(target) >= 3
            else edit_distance(target, folded, max_distance)
        )
        if dist <= max_distance:
            key = (dist, abs(len(folded) - len(target)), cand)
            if best is None or key < best:
                best = key
    return best[2] if best else None


@dataclass(frozen=True)
class SearchedWord:
    """A word of a search, for offering it as a filter instead (« prefecture » as
    `type:prefecture`): the searched text without it, and the search rewritten. Both are
    built only when asked for, so walking a long search stays linear."""

    word: str
    position: int  # in the typed search's tokens
    tokens: tuple[str, ...]
    searched: tuple[str, ...]  # the searched words

    @property
    def rest(self) -> str:
        """The searched words without this one (its first occurrence)."""
        i = self.searched.index(self.word)
        return " ".join(self.searched[:i] + self.searched[i + 1 :])

    def as_filter(self, key: str) -> str:
        """The typed search with this word written `key:word`, in its place."""
        return " ".join(
            [*self.tokens[: self.position], f"{key}:{self.word}", *self.tokens[self.position + 1 :]]
        )


def searched_words(typed: str, text: str) -> Iterator[SearchedWord]:
    """The tokens of the typed search `typed` that are words of its searched `text` (its
    filters taken out), in order, each distinct word once (a word repeated would offer
    the same rewrite again)."""
    tokens = tuple(typed.split())
    searched = tuple(text.split())
    pending = set(searched)
    for i, token in enumerate(tokens):
        if token in pending:
            pending.discard(token)
            yield SearchedWord(token, i, tokens, searched)
