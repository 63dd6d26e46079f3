"""The grammar of every search command: words and `key:value` filters.

`!annuaire prospective territoire:haute garonne type:"service de l'état"`: a filter is a
key the feature knows (any case, accents ignored, French or English), a colon, and a value —
one word, a group between quotes (`"…"`, `« … »`, `“…”`, `„…“`: the quote table of
`bot.parsing`), or several words when they make one value (« haute garonne », « lundi
dernier »). `key: value` and `key : value` are read the same. Everything else is searched
words. Each feature says which keys it has and how to tell a whole value from a start of
one; the grammar decides, the same way for all, how many words a value takes: the longest
run (up to `MAX_VALUE_WORDS`) that is a whole value, else the shortest that names one
(« haute garone »), else its first word alone.

`offer_as_filter` is the « search this word as a filter » offer of a search that found
nothing: one rewrite of what the member typed."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass

from bot.errors import UserError
from bot.parsing import QUOTES
from bot.text import fold

MAX_VALUE_WORDS = 5  # « depuis:lundi 1er septembre 2025 », « territoire:tarn et garonne »
_KEY = re.compile(r"^([^\W\d_][\w-]*)\s*:(.*)$", re.UNICODE | re.DOTALL)


def _never(_: str) -> bool:
    return False


@dataclass(frozen=True)
class Key:
    """A filter: its name, and how to tell the words its value runs over. `whole`: these
    words are one value in full (« tarn et garonne »); `partial`: they name one (a start,
    a slip: « haute garone »). A key with neither takes one word or a quoted group."""

    name: str
    whole: Callable[[str], bool] = _never
    partial: Callable[[str], bool] = _never


@dataclass(frozen=True)
class Term:
    """A filter as typed."""

    key: str  # the filter's name
    typed_key: str  # the key as typed, for messages
    value: str  # the words of its value
    run: str  # its value and the words that might have continued it: what an error echoes
    quoted: bool


@dataclass(frozen=True)
class Parsed:
    words: tuple[str, ...]  # the searched words, in order
    terms: tuple[Term, ...]  # the filters, in order
    typed: str  # the whole search as typed (spaces normalised), for messages

    @property
    def text(self) -> str:
        return " ".join(self.words)


@dataclass(frozen=True)
class Grammar:
    """A feature's filters. `keys`: every name a member may type (folded) → its `Key`.
    `errors`: the feature's catalog prefix for `<errors>.empty_filter` and, when
    `strict`, `<errors>.bad_filter` (a `word:value` whose key is not a filter; otherwise
    such a word — « https://… », « ville:toulouse » — is searched as typed)."""

    keys: Mapping[str, Key]
    errors: str
    strict: bool = False
    max_words: int = MAX_VALUE_WORDS

    def parse(self, raw: str) -> Parsed:
        return _Reader(self, raw.split()).read()


def aliases(key: Key, *names: str) -> dict[str, Key]:
    """`{name: key}` for each of `names` (folded), to build a grammar's table."""
    return {fold(n): key for n in names}


class _Reader:
    def __init__(self, grammar: Grammar, tokens: list[str]) -> None:
        self.g, self.tokens, self.i = grammar, tokens, 0
        self.words: list[str] = []
        self.terms: list[Term] = []

    def read(self) -> Parsed:
        typed = " ".join(self.tokens)
        while self.i < len(self.tokens):
            start = self._key_at(self.i)
            if start is None:
                self.words.append(self.tokens[self.i])
                self.i += 1
            else:
                self._term(*start)
        return Parsed(tuple(self.words), tuple(self.terms), typed)

    def _key_at(self, i: int) -> tuple[str, Key, str] | None:
        """(key as typed, key, what follows the colon) when tokens[i] starts a filter."""
        token = self.tokens[i]
        m = _KEY.match(token)
        if m is None and i + 1 < len(self.tokens) and self.tokens[i + 1].startswith(":"):
            joined = _KEY.match(token + self.tokens[i + 1])  # « territoire : 31 »
            if joined is not None and fold(joined.group(1)) in self.g.keys:
                self.tokens[i : i + 2] = [token + self.tokens[i + 1]]
                m = joined
        if m is None:
            return None
        key = self.g.keys.get(fold(m.group(1)))
        if key is None:
            if self.g.strict:
                raise UserError(f"{self.g.errors}.bad_filter", name=m.group(1))
            return None
        return m.group(1), key, m.group(2)

    def _starts_filter(self, i: int) -> bool:
        try:
            return self._key_at(i) is not None
        except UserError:
            return True

    def _term(self, typed_key: str, key: Key, after: str) -> None:
        self.i += 1
        if not after and self.i < len(self.tokens) and not self._starts_filter(self.i):
            after = self.tokens[self.i]  # « territoire: 31 »
            self.i += 1
        if after[:1] in QUOTES:
            value = run = self._quoted(after)
        else:
            value, run = self._words(key, after)
        if not value:
            raise UserError(f"{self.g.errors}.empty_filter", name=typed_key)
        self.terms.append(Term(key.name, typed_key, value, run, after[:1] in QUOTES))

    def _quoted(self, first: str) -> str:
        """The group that `first` opens, to its closing quote or to the end."""
        close, body, parts = QUOTES[first[0]], first[1:], []
        while True:
            end = body.find(close)
            if end >= 0:
                parts.append(body[:end])
                if body[end + 1 :]:  # « "a b", c »: what follows the quote is read on
                    self.tokens.insert(self.i, body[end + 1 :])
                break
            parts.append(body)
            if self.i >= len(self.tokens):
                break
            body = self.tokens[self.i]
            self.i += 1
        return " ".join(parts).strip()

    def _words(self, key: Key, first: str) -> tuple[str, str]:
        """The value that starts with `first` (see the module), and the longest run of
        words it might have been."""
        following: list[str] = []
        j = self.i
        while j < len(self.tokens) and len(following) < self.g.max_words - 1 and not self._starts_filter(j):
            following.append(self.tokens[j])
            j += 1
        runs = [" ".join([first, *following[:k]]) for k in range(len(following) + 1)]
        taken = _taken(runs, key) if first else 0
        self.i += taken
        return runs[taken], runs[-1]


def _taken(runs: list[str], key: Key) -> int:
    """How many words after the first the value takes."""
    for k in reversed(range(len(runs))):
        if key.whole(runs[k]):
            return k
    for k, run in enumerate(runs):
        if key.partial(run):
            return k
    return 0


# --- « search this word as a filter » ------------------------------------------------------
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


async def offer_as_filter(
    typed: str, text: str, finds: Callable[[str, str], Awaitable[str | None]]
) -> str | None:
    """For a search that found nothing: `typed` rewritten with its first searched word
    that, as a filter, finds something. `finds(word, rest)` is the key (as the member
    should type it) under which `word` with the other words `rest` finds something, or
    None."""
    for w in searched_words(typed, text):
        key = await finds(w.word, w.rest)
        if key is not None:
            return w.as_filter(key)
    return None
