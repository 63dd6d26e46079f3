"""Reading what members type about signals: the one-line form, links, the controlled
vocabularies (STEEPL category, nature, horizon, source kind, territory) and the
`!signaux` filters. Pure functions: every problem is a `UserError` whose message says
what was wrong and how to write it."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from bot.dates import parse_date
from bot.errors import UserError
from bot.query import Grammar, Key, Term, aliases
from bot.text import fold
from commands.directory_vocab import find_territory

MAX_TITLE = 200
MIN_TITLE = 3
MAX_URL = 2000
MAX_OBSERVATION = 2000
MAX_WHY = 1000
MAX_COMMENT = 1000
MAX_TAGS = 10
MAX_TAG = 40
MAX_REASON = 300

# STEEPL, in the order digests show them.
CATEGORIES = ("social", "technologique", "economique", "environnemental", "politique", "legal")
NATURES = ("signal_faible", "tendance_emergente", "rupture", "wild_card")
HORIZONS = ("moins_1an", "1_3ans", "3_10ans", "plus_10ans")
SOURCE_KINDS = ("presse", "rapport", "recherche", "terrain", "institution", "reseaux_sociaux")

# What people may type for each value (folded), besides the code and its label.
_ALIASES: dict[str, dict[str, str]] = {
    "category": {
        "s": "social",
        "soc": "social",
        "societal": "social",
        "societe": "social",
        "t": "technologique",
        "tech": "technologique",
        "techno": "technologique",
        "technological": "technologique",
        "technology": "technologique",
        "eco": "economique",
        "economic": "economique",
        "economy": "economique",
        "env": "environnemental",
        "environnement": "environnemental",
        "environmental": "environnemental",
        "environment": "environnemental",
        "ecologique": "environnemental",
        "p": "politique",
        "pol": "politique",
        "political": "politique",
        "politics": "politique",
        "l": "legal",
        "juridique": "legal",
        "legal": "legal",
        "reglementaire": "legal",
    },
    "nature": {
        "signal": "signal_faible",
        "signal faible": "signal_faible",
        "faible": "signal_faible",
        "weak signal": "signal_faible",
        "weak": "signal_faible",
        "tendance": "tendance_emergente",
        "tendance emergente": "tendance_emergente",
        "emerging trend": "tendance_emergente",
        "trend": "tendance_emergente",
        "emergente": "tendance_emergente",
        "break": "rupture",
        "wild card": "wild_card",
        "wildcard": "wild_card",
        "joker": "wild_card",
    },
    "source_kind": {
        "press": "presse",
        "journal": "presse",
        "article": "presse",
        "report": "rapport",
        "etude": "rapport",
        "research": "recherche",
        "science": "recherche",
        "field": "terrain",
        "institutionnel": "institution",
        "social media": "reseaux_sociaux",
        "reseaux": "reseaux_sociaux",
        "reseaux sociaux": "reseaux_sociaux",
        "rs": "reseaux_sociaux",
    },
}
_VOCAB: dict[str, tuple[str, ...]] = {
    "category": CATEGORIES,
    "nature": NATURES,
    "horizon": HORIZONS,
    "source_kind": SOURCE_KINDS,
}

_URL_IN_TEXT = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)
_TAG = re.compile(r"(?<![\w&/])#([^\W\d_][\w-]*|\d+[^\W\d_][\w-]*)", re.UNICODE)
_TRACKING = re.compile(
    r"^(utm_\w+|fbclid|gclid|dclid|msclkid|mc_cid|mc_eid|igshid|xtor|at_\w+|_hsenc|_hsmi)$"
)


@dataclass
class Draft:
    """A signal as typed, before it is recorded."""

    title: str = ""
    url: str | None = None
    observation: str = ""
    why: str = ""
    tags: list[str] = field(default_factory=list)


# --- links --------------------------------------------------------------------------------
def clean_url(raw: str) -> str:
    """A link as members paste it → an http(s) URL, or a UserError saying how to write it.
    « www.x.fr/… » gets its https:// ; <…> and trailing punctuation are dropped."""
    url = raw.strip().strip("<>").rstrip(".,;)»")
    if url.lower().startswith("www."):
        url = "https://" + url
    if len(url) > MAX_URL:
        raise UserError("signaux.errors.url_too_long", max=MAX_URL)
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc or " " in url:
        raise UserError("signaux.errors.url", value=raw.strip()[:80])
    host = parts.hostname or ""
    if "." not in host and host != "localhost" and not host.replace(":", "").isalnum():
        raise UserError("signaux.errors.url", value=raw.strip()[:80])
    return url


def url_key(url: str) -> str:
    """The identity of a link: same page ⇒ same key, whatever the scheme, « www. »,
    letter case of the host, default port, fragment, trailing slash or tracking
    parameters (utm_*, fbclid…)."""
    parts = urlsplit(url.strip())
    host = (parts.hostname or "").lower().removeprefix("www.")
    port = parts.port
    if port and port not in (80, 443):
        host = f"{host}:{port}"
    path = parts.path or "/"
    if len(path) > 1:
        path = path.rstrip("/")
    query = urlencode(
        [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not _TRACKING.match(k)]
    )
    return urlunsplit(("", host, path, query, "")).removeprefix("//")


# --- the one-line form ----------------------------------------------------------------
def extract_tags(text: str) -> tuple[str, list[str]]:
    """`#tag` words out of a text (not inside links): the text without them, and the tags
    (lower-case, unique, in order)."""
    tags: list[str] = []
    protected = {m.span() for m in _URL_IN_TEXT.finditer(text)}

    def inside_url(pos: int) -> bool:
        return any(a <= pos < b for a, b in protected)

    def take(m: re.Match[str]) -> str:
        if inside_url(m.start()):
            return m.group(0)
        tag = m.group(1).lower()[:MAX_TAG]
        if tag not in tags:
            tags.append(tag)
        return ""

    rest = _TAG.sub(take, text)
    return re.sub(r"\s{2,}", " ", rest).strip(), tags


def parse_one_line(text: str) -> Draft:
    """`titre | lien | ce qui a été observé [| pourquoi c'est important] #tag #tag`.

    Without pipes, a link inside the text is understood too: « Titre https://… ce qui a été
    observé ». The link may be left empty (`titre | | observation`) for what was seen on
    the ground."""
    stripped, tags = extract_tags(text.strip())
    if "|" in stripped:
        parts = [p.strip() for p in stripped.split("|")]
        if len(parts) > 4:
            raise UserError("signaux.errors.too_many_fields", n=len(parts))
        parts += [""] * (4 - len(parts))
        title, link, observation, why = parts
        if link and not _looks_like_url(link) and (_looks_like_url(observation) or _looks_like_url(title)):
            raise UserError("signaux.errors.link_second")  # « lien | titre | … », « titre | obs | lien »
        if link and not _looks_like_url(link):
            raise UserError("signaux.errors.url", value=link[:80])
    else:
        m = _URL_IN_TEXT.search(stripped)
        if m:
            title, link = stripped[: m.start()].strip(" -–—:"), m.group(0)
            observation, why = stripped[m.end() :].strip(" -–—:"), ""
        else:
            title, link, observation, why = stripped, "", "", ""
    if not title:
        raise UserError("signaux.errors.no_title")
    if not link and not observation:
        raise UserError("signaux.errors.nothing_observed")
    draft = Draft(
        title=check_title(title),
        url=clean_url(link) if link else None,
        observation=check_text(observation, MAX_OBSERVATION, "observation"),
        why=check_text(why, MAX_WHY, "why"),
        tags=check_tags(tags),
    )
    return draft


def _looks_like_url(text: str) -> bool:
    t = text.strip().lower()
    return t.startswith(("http://", "https://", "www.")) or bool(re.match(r"^[a-z][a-z0-9+.-]*://", t))


def check_title(title: str) -> str:
    title = " ".join(title.split())
    if len(title) < MIN_TITLE:
        raise UserError("signaux.errors.title_short", min=MIN_TITLE)
    if len(title) > MAX_TITLE:
        raise UserError("signaux.errors.title_long", max=MAX_TITLE, n=len(title))
    return title


def check_text(text: str, limit: int, what: str) -> str:
    text = text.strip()
    if len(text) > limit:
        raise UserError(f"signaux.errors.{what}_long", max=limit, n=len(text))
    return text


def check_tags(tags: Iterable[str]) -> list[str]:
    out: list[str] = []
    for raw in tags:
        tag = raw.strip().lstrip("#").lower()
        if tag and tag not in out:
            if len(tag) > MAX_TAG:
                raise UserError("signaux.errors.tag_long", tag=tag[:50], max=MAX_TAG)
            out.append(tag)
    if len(out) > MAX_TAGS:
        raise UserError("signaux.errors.too_many_tags", max=MAX_TAGS)
    return out


def parse_tags(text: str) -> list[str]:
    """Tags typed as a list: « #eau #sécheresse », « eau, sécheresse » or « eau sécheresse »."""
    return check_tags(re.split(r"[\s,;]+", text.replace("#", " ")))


# --- vocabularies ------------------------------------------------------------------------
def choice(kind: str, raw: str, labels: Mapping[str, str], allowed: Iterable[str] | None = None) -> str:
    """A value of a controlled vocabulary from what was typed: its number in the list
    shown, its code, its label (any language, accents and case ignored), a known alias,
    or the beginning of one of those."""
    codes = tuple(allowed) if allowed is not None else _VOCAB[kind]
    typed = _typed(raw)
    if not typed:
        raise UserError(f"signaux.errors.bad_{kind}", value=raw)
    if typed.isdigit() and 1 <= int(typed) <= len(codes):
        return codes[int(typed) - 1]
    if kind == "horizon":
        found = _horizon(typed)
        if found:
            return found
    table = _choice_table(kind, codes, labels)
    if typed in table:
        return table[typed]
    starts = {code for name, code in table.items() if len(typed) >= 2 and name.startswith(typed)}
    if len(starts) == 1:
        return starts.pop()
    raise UserError(f"signaux.errors.bad_{kind}", value=raw)


def _names_exactly(kind: str, raw: str, labels: Mapping[str, str], allowed: Iterable[str] | None) -> bool:
    """Whether `raw` is a whole code, label or alias of the vocabulary (not a start)."""
    codes = tuple(allowed) if allowed is not None else _VOCAB[kind]
    return _typed(raw) in _choice_table(kind, codes, labels)


def vocabulary_word(
    word: str, category_labels: Mapping[str, str], nature_labels: Mapping[str, str], categories: Iterable[str]
) -> tuple[str, str] | None:
    """(« category » or « nature », code) when `word` names one in full (« social »,
    « rupture »), for offering it as a filter: neither is in a signal's searched text."""
    if _names_exactly("category", word, category_labels, categories):
        return "category", choice("category", word, category_labels, categories)
    if _names_exactly("nature", word, nature_labels, None):
        return "nature", choice("nature", word, nature_labels)
    return None


def _typed(raw: str) -> str:
    typed = fold(raw).strip().strip(".«»\"' ").replace("-", " ").replace("_", " ")
    return re.sub(r"\s+", " ", typed)


def _choice_table(kind: str, codes: Sequence[str], labels: Mapping[str, str]) -> dict[str, str]:
    """Every way of naming a code in full: the code, its label, its aliases."""
    table: dict[str, str] = {}
    for code in codes:
        table[code.replace("_", " ")] = code
        if code in labels:
            table[_norm(labels[code])] = code
    for alias, code in _ALIASES.get(kind, {}).items():
        if code in codes:
            table.setdefault(alias, code)
    return table


def _norm(label: str) -> str:
    return re.sub(r"\s+", " ", fold(label).replace("-", " ").replace("_", " ").replace("’", "'")).strip()


def _horizon(typed: str) -> str | None:
    """« ≤ 1 an », « moins d'un an », « 1-3 », « 1 à 3 ans », « 3–10 ans », « > 10 ans »…"""
    nums = [int(n) for n in re.findall(r"\d+", typed)]
    less = any(w in typed for w in ("moins", "<", "≤", "less", "under", "court", "short"))
    more = any(w in typed for w in ("plus", ">", "≥", "more", "over", "+", "long"))
    if less and nums in ([], [1]):
        return "moins_1an"
    if more and (not nums or nums[-1] >= 10):
        return "plus_10ans"
    if nums == [1, 3]:
        return "1_3ans"
    if nums == [3, 10]:
        return "3_10ans"
    return None


def territory(raw: str, territories: Iterable[str]) -> str:
    """A territory of the configured list, by name or département number (« 34 »,
    « herault », « Haute-Garonne (31) », « region »)."""
    options = list(territories)
    found = find_territory(raw, options)
    if found is None:
        raise UserError("signaux.errors.bad_territory", value=raw, choices=", ".join(options))
    return found


def signal_id(raw: str) -> int:
    """« 42 », « #42 », « n°42 »."""
    t = raw.strip().lower().removeprefix("n°").removeprefix("no").lstrip("#").strip()
    if not t.isdigit() or int(t) <= 0 or len(t) > 9:
        raise UserError("signaux.errors.bad_id", value=raw.strip()[:40])
    return int(t)


# --- `!signaux` filters --------------------------------------------------------------------
STATUS_WORDS = {
    "propose": "proposed",
    "proposed": "proposed",
    "retenu": "retained",
    "retained": "retained",
    "publie": "published",
    "published": "published",
    "ecarte": "discarded",
    "discarded": "discarded",
}


@dataclass
class Query:
    text: str = ""
    category: str | None = None
    nature: str | None = None
    territory: str | None = None
    since: datetime | None = None
    status: str | None = None
    week: bool = False
    page: int = 1


@dataclass(frozen=True)
class _Vocabularies:
    now: datetime
    category_labels: Mapping[str, str]
    nature_labels: Mapping[str, str]
    categories: list[str]
    territories: list[str]

    def grammar(self) -> Grammar:
        """A filter's value may be several words (« depuis:lundi dernier », « nature:signal
        faible », « territoire:haute garonne »); an unknown key is an error."""
        territory = Key("territory", whole=self._territory, partial=self._near_territory)
        keys = {
            **aliases(Key("category", whole=self._category), "categorie", "category", "cat"),
            **aliases(Key("nature", whole=self._nature), "nature"),
            **aliases(territory, "territoire", "territory", "terr"),
            **aliases(Key("since", whole=self._since), "depuis", "since"),
            **aliases(Key("status"), "statut", "status"),
            **aliases(Key("page"), "page"),
        }
        return Grammar(keys, errors="signaux.errors", strict=True)

    def _category(self, text: str) -> bool:
        return _names_exactly("category", text, self.category_labels, self.categories)

    def _nature(self, text: str) -> bool:
        return _names_exactly("nature", text, self.nature_labels, None)

    def _territory(self, text: str) -> bool:
        return find_territory(text, self.territories, whole=True) is not None

    def _near_territory(self, text: str) -> bool:
        return find_territory(text, self.territories) is not None

    def _since(self, text: str) -> bool:
        return parse_date(text, self.now, prefer="past") is not None


def parse_query(
    raw: str,
    now: datetime,
    *,
    category_labels: Mapping[str, str],
    nature_labels: Mapping[str, str],
    categories: Iterable[str],
    territories: Iterable[str],
) -> Query:
    """`[mots] [categorie:…] [nature:…] [territoire:…] [depuis:…] [statut:…] [semaine]`
    (`bot.query`): « depuis:lundi dernier », « territoire:haute garonne sécheresse »."""
    vocab = _Vocabularies(now, category_labels, nature_labels, list(categories), list(territories))
    parsed = vocab.grammar().parse(raw)
    q = Query()
    for term in parsed.terms:
        _apply(q, term, vocab)
    rest: list[str] = []
    for word in parsed.words:
        if fold(word) in ("semaine", "week"):
            q.week = True
        else:
            rest.append(word)
    q.text = " ".join(rest)
    if q.week and q.since is None:
        q.since = now - timedelta(days=7)
    return q


def _apply(q: Query, term: Term, vocab: _Vocabularies) -> None:
    value = term.value
    if term.key == "category":
        q.category = choice("category", value, vocab.category_labels, vocab.categories)
    elif term.key == "nature":
        q.nature = choice("nature", value, vocab.nature_labels)
    elif term.key == "territory":
        q.territory = territory(value, vocab.territories)
    elif term.key == "since":
        day = parse_date(value, vocab.now, prefer="past")
        if day is None:
            raise UserError("signaux.errors.bad_since", value=term.run)  # all the member meant
        q.since = datetime.combine(day, datetime.min.time(), tzinfo=vocab.now.tzinfo)
    elif term.key == "status":
        status = STATUS_WORDS.get(fold(value))
        if status is None:
            raise UserError("signaux.errors.bad_status", value=value)
        q.status = status
    elif term.key == "page":
        if not value.isdigit() or not 1 <= int(value) <= 100:
            raise UserError("signaux.errors.bad_page", value=value)
        q.page = int(value)


# The main towns of Occitanie, by département: a signal about « Toulouse » is about the
# Haute-Garonne. Only towns whose name is not an ordinary word.
TOWNS = {
    "foix": "09", "pamiers": "09", "carcassonne": "11", "narbonne": "11", "rodez": "12",
    "millau": "12", "nimes": "30", "ales": "30", "toulouse": "31", "auch": "32",
    "montpellier": "34", "beziers": "34", "sete": "34", "cahors": "46", "figeac": "46",
    "mende": "48", "tarbes": "65", "lourdes": "65", "perpignan": "66", "albi": "81",
    "castres": "81", "montauban": "82",
}  # fmt: skip
# Département names that are also ordinary words (« un lot de… », « Aude » the first
# name) count only after an article: « dans le Lot », « de l'Aude », « du Gard ».
_AMBIGUOUS = {"lot", "aude", "gard", "tarn"}
_ARTICLE = r"(?:dans le|du|le|en|dans l|de l|l)"


def named_territory(text: str, territories: Iterable[str]) -> str | None:
    """The configured territory a signal's text names — a département (« dans le Gers »)
    or one of its main towns (« Montpellier ») — the first named; None when it names none."""
    words = " " + re.sub(r"[^\w]+", " ", fold(text)) + " "
    found: list[tuple[int, int, str]] = []
    for name in territories:
        bare = re.sub(r"[^\w]+", " ", fold(re.sub(r"\s*\(.*\)", "", name))).strip()
        if not bare or bare in ("region", "hors occitanie"):
            continue
        pattern = rf" {_ARTICLE} {re.escape(bare)} " if bare in _AMBIGUOUS else rf" {re.escape(bare)} "
        hit = re.search(pattern, words)
        if hit:
            found.append((hit.end() - len(bare) - 1, -len(bare), name))
    for town, number in TOWNS.items():
        hit = re.search(rf" {town} ", words)
        territory = find_territory(number, territories, whole=True) if hit else None
        if hit and territory:
            found.append((hit.start(), -len(town), territory))
    return min(found)[2] if found else None
