"""Text helpers shared by the parser and the features: accent folding and edit distance."""

from __future__ import annotations

import re
import unicodedata

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
