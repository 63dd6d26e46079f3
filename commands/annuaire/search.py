"""`!annuaire`'s query — words and `key:value` filters read by the shared grammar
(`bot.query`), resolved against the directory's vocabularies — and each member's last
search, for `!annuaire suite`."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, replace

from bot.context import Context
from bot.errors import UserError
from bot.query import Grammar, Key, Term
from bot.text import facet_value
from commands import directory_vocab as vocab
from commands.annuaire.fields import DirectoryConfig
from storage.repositories.profiles import STRUCTURE_KIND, TERRITORY, DirectoryQuery

# --- !annuaire: the query ------------------------------------------------------------------
FILTER_KEYS = {
    **dict.fromkeys(("territoire", "territoires", "territory", "departement", "dept", "dep"), TERRITORY),
    **dict.fromkeys(("type", "types", "kind", "type-structure", "type_structure"), STRUCTURE_KIND),
    **dict.fromkeys(
        ("competence", "competences", "sujet", "sujets", "tag", "tags", "skill", "skills", "topic", "topics"),
        "tag",
    ),
}


@dataclass(frozen=True)
class ParsedQuery:
    query: DirectoryQuery
    typed: str  # as the member typed it, for messages


def _grammar(cfg: DirectoryConfig) -> Grammar:
    """A territory or a kind may run over several words (« territoire:haute garonne »,
    « type:service de l'état »); a topic is one word or a quoted group."""

    def territory(whole: bool) -> Callable[[str], bool]:
        return lambda text: vocab.find_territory(text, cfg.territories, whole=whole) is not None

    def kind(whole: bool) -> Callable[[str], bool]:
        return lambda text: vocab.find_kind(text, cfg.kinds, whole=whole) is not None

    keys = {
        TERRITORY: Key(TERRITORY, whole=territory(True), partial=territory(False)),
        STRUCTURE_KIND: Key(STRUCTURE_KIND, whole=kind(True), partial=kind(False)),
        "tag": Key("tag"),
    }
    return Grammar({alias: keys[name] for alias, name in FILTER_KEYS.items()}, errors="annuaire.errors")


def parse_query(raw: str, cfg: DirectoryConfig) -> ParsedQuery:
    """« prospective territoire:31 type:caf competence:"design de services" » → words
    and filters (`bot.query`). Raises UserError on a value that names nothing and on a
    filter given twice."""
    parsed = _grammar(cfg).parse(raw)
    found: dict[str, str] = {}
    for term in parsed.terms:
        if term.key in found:
            raise UserError("annuaire.errors.twice", name=term.typed_key)
        found[term.key] = _resolve(term, cfg)
    query = DirectoryQuery(
        text=parsed.text,
        territory=found.get(TERRITORY),
        kind=found.get(STRUCTURE_KIND),
        tag=found.get("tag"),
    )
    return ParsedQuery(query, parsed.typed)


def _resolve(term: Term, cfg: DirectoryConfig) -> str:
    """The territory, kind or topic a filter's value names."""
    if term.key == "tag":
        tag = vocab.normalize_tag(term.value)
        if not tag:
            raise UserError("annuaire.errors.empty_filter", name=term.typed_key)
        return tag
    if term.key == TERRITORY:
        first = term.value if term.quoted else term.value.split()[0]
        found, unknown = vocab.find_territories(first, cfg.territories)
        if len(found) > 1 and not unknown:
            raise UserError("annuaire.errors.one_territory", value=first)
        territory = vocab.find_territory(term.value, cfg.territories)
        if territory is None:
            raise UserError(
                "annuaire.errors.bad_territory", value=term.value, choices=" · ".join(cfg.territories)
            )
        return territory
    kind = vocab.find_kind(term.value, cfg.kinds)
    if kind is None:
        raise UserError("annuaire.errors.bad_kind", value=term.value, choices=" · ".join(cfg.kinds))
    return kind


async def resolve_tag(ctx: Context, query: DirectoryQuery) -> DirectoryQuery:
    """A topic filter names a topic members use: « prospect » is read as the one topic
    starting so; several candidates are offered to choose from."""
    if not query.tag:
        return query
    known = await ctx.repos.profiles.tag_values(query.tag)
    wanted = facet_value(query.tag)
    if not known or wanted in known:
        return query
    if len(known) == 1:
        return replace(query, tag=known[0])
    raise UserError("annuaire.errors.which_tag", value=query.tag, choices=", ".join(known))


# --- !annuaire: the last search of each member, for `suite` --------------------------------
@dataclass
class LastSearch:
    query: DirectoryQuery
    typed: str
    next_offset: int
    at: float


class RecentSearches:
    """The last search of each member in each room, in memory only: what someone looks
    for is personal data that no feature needs to keep, so it is never written to the
    database, expires after an hour and is forgotten with the profile. A restart loses
    it; `!annuaire suite` then asks for the search again. The search itself is re-run
    for every page, so an erased or hidden profile never shows up from a stale list."""

    def __init__(self, size: int = 2000, ttl: float = 3600) -> None:
        self.size, self.ttl = size, ttl
        self._items: OrderedDict[tuple[str, str], LastSearch] = OrderedDict()

    def put(self, key: tuple[str, str], item: LastSearch) -> None:
        self._items[key] = item
        self._items.move_to_end(key)
        while len(self._items) > self.size:
            self._items.popitem(last=False)

    def get(self, key: tuple[str, str]) -> LastSearch | None:
        item = self._items.get(key)
        if item is None or time.monotonic() - item.at > self.ttl:
            self._items.pop(key, None)
            return None
        return item

    def forget_user(self, user_id: str) -> int:
        keys = [k for k in self._items if k[0] == user_id]
        for k in keys:
            del self._items[k]
        return len(keys)


def recent(ctx: Context) -> RecentSearches:
    """This bot's last searches (its app's state: another bot in the process has its own)."""
    return ctx.services.state(RecentSearches)


def search_key(ctx: Context) -> tuple[str, str]:
    return (ctx.sender, ctx.room_id)
