"""What members type to share and search resources: the one-line form
`<titre> | <lien> | <description> #tags [| type]`, the kinds typed the French way and
forgiven (« retour d'expérience », « retex », « outils », « méthode », « methdoe »), and
the search's words with its `type:` and `depuis:` filters."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime

from bot.dates import parse_date
from bot.errors import UserError
from bot.formatting import web_link
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
    filters: dict[str, str] = field(default_factory=dict)


_FILTER = re.compile(r"^(type|depuis|since|kind):(.*)$", re.IGNORECASE)


def parse_query(typed: str, now: datetime) -> Query:
    """Words, `type:<kind>` (several with commas: `type:outil,methode`) and
    `depuis:<date>` (« depuis:septembre », « depuis:01/10 », « depuis:il y a 2 mois »)."""
    tokens = typed.split()
    words: list[str] = []
    kinds: list[str] = []
    since: datetime | None = None
    i = 0
    while i < len(tokens):
        m = _FILTER.match(tokens[i])
        if not m:
            words.append(tokens[i])
            i += 1
            continue
        key, value = fold(m.group(1)), m.group(2)
        if key in ("type", "kind"):
            # A kind may be two words (« type:retour d'expérience »).
            found: str | None = None
            if i + 1 < len(tokens) and not _FILTER.match(tokens[i + 1]):
                found = kind_of(f"{value} {tokens[i + 1]}")
                if found is not None:
                    i += 1
            for part in [value] if found is None else []:
                for piece in part.split(","):
                    k = kind_of(piece)
                    if k is None:
                        raise UserError("ressources.errors.bad_filter_kind", value=piece or "…")
                    kinds.append(k)
            if found is not None:
                kinds.append(found)
            i += 1
            continue
        # depuis: the longest run of words (up to five) that reads as a date
        best = None
        for n in range(min(5, len(tokens) - i), 0, -1):
            phrase = " ".join([value, *tokens[i + 1 : i + n]]).strip()
            day = parse_date(phrase, now, prefer="past") if phrase else None
            if day is not None:
                best = (n, day)
                break
        if best is None:
            raise UserError("ressources.errors.bad_since", value=value or "…")
        since = datetime.combine(best[1], datetime.min.time(), tzinfo=now.tzinfo)
        i += best[0]
    return Query(" ".join(words), tuple(dict.fromkeys(kinds)), since)
