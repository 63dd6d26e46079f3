"""What members type to share and search resources: the one-line form
`<titre> | <lien> | <description> #tags [| type]`, the kinds typed the French way and
forgiven (« retour d'expérience », « retex », « outils », « méthode », « methdoe »), and
the search's words with its `type:` and `depuis:` filters."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime

from bot.dates import parse_date
from bot.errors import UserError
from bot.formatting import web_link
from bot.query import Grammar, Key, aliases
from bot.text import closest, fold

MAX_TITLE = 200
MAX_DESCRIPTION = 2000
MAX_TAGS = 10
MAX_URL = 2000

SHARED_KINDS = ("pratique", "outil", "methode", "retour_experience", "formation", "autre")
ALL_KINDS = (*SHARED_KINDS, "captation", "support", "digest")
DEFAULT_KIND = "autre"

# Words people use for each kind (folded); plurals are taken off before looking.
ALIASES: dict[str, tuple[str, ...]] = {
    "pratique": ("pratique", "bonne pratique", "practice", "usage"),
    "outil": ("outil", "tool", "boite a outils", "kit"),
    "methode": ("methode", "method", "methodologie", "demarche"),
    "retour_experience": (
        "retour d'experience",
        "retour experience",
        "retours d'experience",
        "retex",
        "rex",
        "retour",
        "experience",
        "feedback",
    ),
    "formation": ("formation", "cours", "training", "mooc", "tutoriel"),
    "autre": ("autre", "other", "divers"),
    "captation": ("captation", "enregistrement", "video", "replay", "recording"),
    "support": ("support", "diaporama", "slides", "presentation", "materiel"),
    "digest": ("digest", "resume", "hebdo"),
}
_TAG = re.compile(r"(?<![\w&/])#([^\W\d_][\w-]*)", re.UNICODE)
_URL_IN_TEXT = re.compile(r"https?://\S+|www\.\S+", re.IGNORECASE)


def kind_of(raw: str, allowed: tuple[str, ...] = ALL_KINDS) -> str | None:
    """The kind a word or phrase names: exactly, in the plural, by its start (3 letters
    or more) or with one slip (5 letters or more); None when it names none."""
    text = fold(raw).strip().replace("’", "'")
    text = re.sub(r"\s+", " ", text)
    if not text:
        return None
    singular = " ".join(w[:-1] if len(w) > 3 and w.endswith(("s", "x")) else w for w in text.split())
    table = {alias: kind for kind in allowed for alias in (kind, *ALIASES.get(kind, ()))}
    for candidate in (text, singular):
        if candidate in table:
            return table[candidate]
    if len(singular) >= 3:
        starts = {kind for alias, kind in table.items() if alias.startswith(singular)}
        if len(starts) == 1:
            return starts.pop()
    if len(singular) >= 5:
        near = closest(singular, list(table), max_distance=1)
        if near is not None:
            return table[near]
    return None


def check_url(raw: str) -> str:
    """A web link, or a UserError with an example."""
    url = web_link(raw, MAX_URL)
    if url is None:
        raise UserError("ressources.errors.bad_link", value=raw.strip()[:80])
    return url


@dataclass(frozen=True)
class Draft:
    title: str
    url: str
    description: str
    tags: list[str]
    kind: str


def take_tags(text: str) -> tuple[str, list[str]]:
    """`#tags` out of a text (not inside links): the text without them, the tags."""
    links = [m.span() for m in _URL_IN_TEXT.finditer(text)]
    tags: list[str] = []

    def take(m: re.Match[str]) -> str:
        if any(a <= m.start() < b for a, b in links):
            return m.group(0)
        tag = m.group(1).lower()[:40]
        if tag not in tags:
            tags.append(tag)
        return ""

    rest = _TAG.sub(take, text)
    return re.sub(r"[ \t]{2,}", " ", rest).strip(), tags[:MAX_TAGS]


def parse_new(text: str) -> Draft:
    """`<titre> | <lien> | <description> #tags`, with an optional part naming the kind
    (`| outil`, or `type:outil` anywhere)."""
    body, tags = take_tags(text)
    kind: str | None = None
    m = re.search(r"\btype\s*:\s*([^|#]+?)\s*(?=\||$)", body, re.IGNORECASE)
    if m:
        kind = kind_of(m.group(1), SHARED_KINDS)
        if kind is None:
            raise UserError("ressources.errors.bad_kind", value=m.group(1).strip())
        body = (body[: m.start()] + body[m.end() :]).strip()
    parts = [p.strip() for p in body.split("|")]
    if len(parts) > 3 and kind is None:
        kind = kind_of(parts[-1], SHARED_KINDS)
        if kind is None:
            raise UserError("ressources.errors.bad_kind", value=parts[-1])
        parts = parts[:-1]
    if len(parts) < 2 or len(parts) > 3 or not parts[0] or not parts[1]:
        raise UserError("ressources.errors.fields")
    title = " ".join(parts[0].split())
    if len(title) < 3:
        raise UserError("ressources.errors.no_title")
    if len(title) > MAX_TITLE:
        raise UserError("ressources.errors.title_long", max=MAX_TITLE, n=len(title))
    description = parts[2] if len(parts) > 2 else ""
    if len(description) > MAX_DESCRIPTION:
        raise UserError("ressources.errors.description_long", max=MAX_DESCRIPTION, n=len(description))
    return Draft(title, check_url(parts[1]), description, tags, kind or DEFAULT_KIND)


@dataclass(frozen=True)
class Query:
    text: str = ""
    kinds: tuple[str, ...] = ()
    since: datetime | None = None


def parse_query(typed: str, now: datetime) -> Query:
    """Words, `type:<kind>` (several with commas: `type:outil,methode`; « type:retour
    d'expérience ») and `depuis:<date>` (« depuis:septembre », « depuis:01/10 »,
    « depuis:il y a 2 mois »), read by `bot.query`."""

    def names_kind(text: str) -> bool:
        return kind_of(text) is not None

    def names_day(text: str) -> bool:
        return parse_date(text, now, prefer="past") is not None

    kind, since = Key("type", whole=names_kind), Key("since", whole=names_day)
    grammar = Grammar(
        {**aliases(kind, "type", "kind"), **aliases(since, "depuis", "since")}, "ressources.errors"
    )
    parsed = grammar.parse(typed)
    kinds: list[str] = []
    day: date | None = None
    for term in parsed.terms:
        if term.key == "since":
            day = parse_date(term.value, now, prefer="past")
            if day is None:
                raise UserError("ressources.errors.bad_since", value=term.value)
            continue
        whole = kind_of(term.value)
        for piece in [term.value] if whole else term.value.split(","):
            found = whole or kind_of(piece)
            if found is None:
                raise UserError("ressources.errors.bad_filter_kind", value=piece or "…")
            kinds.append(found)
    since_at = datetime.combine(day, datetime.min.time(), tzinfo=now.tzinfo) if day else None
    return Query(parsed.text, tuple(dict.fromkeys(kinds)), since_at)
