"""Reading dates as French people write them (English too), in the configured zone.

- `parse_when` reads what a member schedules: a moment or a range (« mardi prochain 14h »,
  « 16/12 à 9h30 », « 16 décembre 2026 14:00-15:30 », « de 14h à 15h30 », « demain 10h »,
  « dans 10 minutes », « 3j »), exact to the second when seconds are typed, and raises a
  `DateError` (a catalog key: what was not understood, with examples) otherwise.
- `parse_delay` reads a delay (« 7j », « 1h », « 30s », « 1h30 », « 2 semaines »), and
  `Delay` is the same for config values (`rappels = ["7j", "1j", "1h", "30s"]`).
- `parse_datetime` / `parse_date` are the lenient forms for filters (`depuis:…`): None
  instead of an error, and « prefer the past » for searches.

Our own small grammar reads every form above; `parse_datetime` falls back to dateparser for
the rest (it alone misses « mardi prochain 14h »), `parse_when` does not: what a member
schedules is read by rules we test, or refused with examples — never a guess. Every phrase
is capped (`MAX_PHRASE_CHARS`, `MAX_PHRASE_WORDS`) before any parsing, so no input costs
more than a short phrase does: a long paste is refused at once, never handed to dateparser.

Rules where people are vague (documented in the README's dates section):
- a time alone is today if still to come, otherwise tomorrow (now itself counts as past);
- a date alone is that day (`When.has_time` is False; its start is `default_time`);
- a date without a year is its next occurrence (« 3 janvier » typed in December is next
  year); a weekday is the next one (today's if its time is still to come);
- delays of a day or more move the calendar (« dans 3 jours » keeps the wall time across a
  clock change), shorter ones are elapsed time (« dans 2 heures » is 7 200 s later);
- a wall time skipped by the spring change (2:30 on the last Sunday of March) is moved past
  the gap (3:30); one that happens twice in autumn is the first (summer time)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

from pydantic import BeforeValidator
from pydantic_core import PydanticCustomError

from bot.errors import BadArgument
from bot.text import fold

Prefer = Literal["future", "past"]

# The longest phrase read: « du lundi 14 décembre 2026 à 14 h 30 au mardi 15 décembre 2026 à
# 15 h 30 » is 73 characters and 16 words.
MAX_PHRASE_CHARS = 120
MAX_PHRASE_WORDS = 20
MAX_DELAY = timedelta(days=3660)  # ten years: further is a typo, and timedelta overflows

WEEKDAYS = {  # French and English day names (folded) → Monday=0
    "lundi": 0,
    "mardi": 1,
    "mercredi": 2,
    "jeudi": 3,
    "vendredi": 4,
    "samedi": 5,
    "dimanche": 6,
    "monday": 0,
    "tuesday": 1,
    "wednesday": 2,
    "thursday": 3,
    "friday": 4,
    "saturday": 5,
    "sunday": 6,
}
MONTHS = {
    "janvier": 1,
    "janv": 1,
    "fevrier": 2,
    "fevr": 2,
    "fev": 2,
    "mars": 3,
    "avril": 4,
    "avr": 4,
    "mai": 5,
    "juin": 6,
    "juillet": 7,
    "juil": 7,
    "aout": 8,
    "septembre": 9,
    "sept": 9,
    "octobre": 10,
    "oct": 10,
    "novembre": 11,
    "nov": 11,
    "decembre": 12,
    "dec": 12,
    "january": 1,
    "february": 2,
    "march": 3,
    "april": 4,
    "may": 5,
    "june": 6,
    "july": 7,
    "august": 8,
    "september": 9,
    "october": 10,
    "november": 11,
    "december": 12,
}
_RELATIVE_DAYS = {
    "aujourd'hui": 0,
    "aujourdhui": 0,
    "today": 0,
    "demain": 1,
    "tomorrow": 1,
    "apres-demain": 2,
    "hier": -1,
    "yesterday": -1,
    "avant-hier": -2,
}
# Numbers people write in words, in delays and recurrences (« dans deux heures »,
# « toutes les deux semaines »).
NUMBER_WORDS = {
    "un": 1,
    "une": 1,
    "a": 1,
    "an": 1,
    "one": 1,
    "deux": 2,
    "two": 2,
    "trois": 3,
    "three": 3,
    "quatre": 4,
    "four": 4,
    "cinq": 5,
    "five": 5,
    "six": 6,
    "sept": 7,
    "seven": 7,
    "huit": 8,
    "eight": 8,
    "neuf": 9,
    "nine": 9,
    "dix": 10,
    "ten": 10,
    "onze": 11,
    "eleven": 11,
    "douze": 12,
    "twelve": 12,
    "quinze": 15,
    "fifteen": 15,
    "vingt": 20,
    "twenty": 20,
    "trente": 30,
    "thirty": 30,
    "quarante-cinq": 45,
    "forty-five": 45,
    "soixante": 60,
    "sixty": 60,
    "quatre-vingt-dix": 90,
    "ninety": 90,
}
_UNITS = {
    **dict.fromkeys(("s", "sec", "secs", "seconde", "secondes", "second", "seconds"), "s"),
    **dict.fromkeys(("m", "min", "mins", "mn", "minute", "minutes"), "min"),
    **dict.fromkeys(("h", "hr", "hrs", "heure", "heures", "hour", "hours"), "h"),
    **dict.fromkeys(("j", "jr", "jrs", "jour", "jours", "d", "day", "days"), "d"),
    **dict.fromkeys(("sem", "semaine", "semaines", "w", "wk", "week", "weeks"), "w"),
    **dict.fromkeys(("mois", "month", "months"), "mo"),
    **dict.fromkeys(("an", "ans", "annee", "annees", "year", "years"), "y"),
}
_UNIT_SPANS = {
    "s": timedelta(seconds=1),
    "min": timedelta(minutes=1),
    "h": timedelta(hours=1),
    "d": timedelta(days=1),
    "w": timedelta(weeks=1),
}
_DELAY_PHRASES = (  # written-out fractions, rewritten before reading
    ("trois quarts d'heure", "45 min"),
    ("un quart d'heure", "15 min"),
    ("quart d'heure", "15 min"),
    ("une demi-heure", "30 min"),
    ("une demi heure", "30 min"),
    ("demi-heure", "30 min"),
    ("heure et demie", "heure 30 min"),
    ("heures et demie", "heures 30 min"),
    ("half an hour", "30 min"),
    ("an hour and a half", "90 min"),
)
_DELAY_TOKEN = re.compile(r"\d+|[a-z]+(?:['-][a-z]+)*|\S")

# 14h, 14 h 30, 14 heures, 14h30m15s / 14:30, 14:30:15. Minutes are two digits, so
# « 16/12 9h 30 » never takes a day for minutes.
_TIME = re.compile(
    r"\b(\d{1,2})\s*(?:"
    r":\s*(\d{2})(?:\s*:\s*(\d{2}))?"
    r"|(?:heures?|h)(?:\s*(\d{2})(?:\s*(?:min|mn|m))?(?:\s*(\d{1,2})\s*(?:secondes?|sec|s))?)?"
    r")(?![\w/])"
)
_AMPM = re.compile(r"\b(\d{1,2})(?::(\d{2}))?\s*(am|pm|a\.m\.|p\.m\.)(?!\w)")
_NAMED_TIMES = re.compile(r"(?<![\w-])(midi|noon|minuit|midnight)\b")
_AFTERNOON = re.compile(r"^\s*(?:du soir|de l'apres-midi|de l'apres midi|in the evening|in the afternoon)\b")
_MORNING = re.compile(r"^\s*(?:du matin|in the morning)\b")
_NUMERIC_DATE = re.compile(r"\b(\d{1,2})[/.-](\d{1,2})(?:[/.-](\d{2,4}))?\b")
_ISO_DATE = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b")
# No trailing \b: « 15 déc. » ends on the abbreviation's dot (only used with fullmatch).
_WRITTEN_DATE = re.compile(r"\b(\d{1,2})(?:er)?\s+([a-z]+)\.?(?:\s+(\d{4}))?")
_FILLER = re.compile(r"\b(le|a|at|on|the|de|du|vers)\b")
_YEAR = re.compile(r"(19|20)\d{2}")
# A dash right after a time is a range: « 14:00-15:30 », « 14h-15h30 ».
_DASH_AFTER_TIME = re.compile(r"(\d{1,2}\s*(?:h|:)\s*(?:\d{2})?)\s*-\s*(?=\d)")
# Range words: the separator each opening word calls for (« du … au … », « de … à … »).
_RANGE_OPENERS = {"du": ("au",), "de": ("a",), "from": ("to", "until", "till"), "entre": ("et",)}
_RANGE_OPENERS["between"] = ("and",)
_STRONG_SEPARATORS = ("-", "jusqu'a", "jusqu'au", "jusqua", "until", "till", "to")
_TIMED_SEPARATORS = ("a", "au")  # only between two times: « 14h à 15h », not « demain à 10h »
_UNTIL = ("jusqu'a", "jusqu'au", "jusqua", "until", "till")
_DURATION = re.compile(r"(.+?)\s+(?:pendant|durant|for|duree)\s+(.+)")
_ORDINAL_SUFFIX = re.compile(r"\b(\d{1,2})(?:st|nd|rd|th)\b")


class DateError(BadArgument):
    """A date, delay or recurrence that could not be read. Its key (`date.errors.*`,
    `recurrence.errors.*`) says what was wrong and shows how to write it."""


@dataclass(frozen=True)
class When:
    """What a member scheduled: a moment, or a range. `end` is None for a moment; for a
    range of whole days (« du 16 au 18 décembre ») it is the start of the day after the
    last one (exclusive, as in iCalendar). `has_time` is False when no time was typed."""

    start: datetime
    end: datetime | None = None
    has_time: bool = True

    def is_past(self, now: datetime) -> bool:
        if self.has_time:  # in UTC: one zone's times compare by wall clock
            return self.start.astimezone(UTC) <= now.astimezone(UTC)
        return self.start.date() < now.astimezone(_zone(self.start)).date()


def _zone(moment: datetime) -> ZoneInfo:
    return moment.tzinfo if isinstance(moment.tzinfo, ZoneInfo) else ZoneInfo("Europe/Paris")


def local_moment(day: date, at: time, tz: ZoneInfo) -> datetime:
    """`day` at wall-clock `at` in `tz`. A time skipped by the spring change is moved past
    the gap (02:30 → 03:30, the same instant as 02:30 winter time); one that happens twice
    in autumn is its first occurrence (summer time)."""
    naive = datetime.combine(day, at)
    aware = naive.replace(tzinfo=tz)
    roundtrip = aware.astimezone(UTC).astimezone(tz)
    return roundtrip if roundtrip.replace(tzinfo=None) != naive else aware


class _NoSuchDate(Exception):
    """A date written in a form we read, that does not exist (« 32/13 », « 31 juin »):
    the answer is an error, not whatever dateparser would make of it."""


def clip(text: str, limit: int = 60) -> str:
    """User text echoed in an answer, cut to a readable length."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def prepare(text: str, *, keep_commas: bool = False) -> str:
    """The folded, single-spaced phrase, or a DateError when empty or over the caps.
    The caps are checked before anything else reads the text. Commas become spaces
    unless kept (cron lists: « 0,30 9 * * 1 »)."""
    stripped = text.strip()
    if not stripped:
        raise DateError("date.errors.empty")
    if len(stripped) > MAX_PHRASE_CHARS:
        raise DateError("date.errors.too_long", max=MAX_PHRASE_CHARS)
    # A comma separates nothing we read: « mardi 16 décembre 2026, 14 h », as the bot
    # writes it, reads back.
    folded = fold(stripped).replace("–", "-").replace("—", "-")
    words = (folded if keep_commas else folded.replace(",", " ")).split()
    if len(words) > MAX_PHRASE_WORDS:
        raise DateError("date.errors.too_long", max=MAX_PHRASE_CHARS)
    return " ".join(words)


# --- delays ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _Delay:
    months: int  # calendar months (years count twelve)
    delta: timedelta
    units: frozenset[str]


def _read_delay(s: str) -> _Delay | None:
    """« 3j », « 1h30 », « 2 semaines et 3 jours », « deux heures »: None if `s` is not
    only a delay; DateError for an absurd one (they would overflow the calendar)."""
    for phrase, plain in _DELAY_PHRASES:
        s = s.replace(phrase, plain)
    tokens = _DELAY_TOKEN.findall(s)
    months, delta, units = 0, timedelta(0), set[str]()
    last: str | None = None
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        if tok in ("et", "and", ",", "+"):
            i += 1
            continue
        if tok.isdigit():
            if len(tok) > 6:
                return None
            qty = int(tok)
        elif tok in NUMBER_WORDS:
            qty = NUMBER_WORDS[tok]
        else:
            return None
        if i + 1 < len(tokens) and tokens[i + 1] in _UNITS:
            unit = _UNITS[tokens[i + 1]]
            i += 2
        elif tok.isdigit() and last in ("h", "min"):  # « 1h30 », « 2min30 »
            unit = "min" if last == "h" else "s"
            i += 1
        else:
            return None
        if unit in units:
            return None
        units.add(unit)
        last = unit
        if unit == "mo":
            months += qty
        elif unit == "y":
            months += 12 * qty
        else:
            delta += qty * _UNIT_SPANS[unit]
        if months > 1200 or delta > 10 * MAX_DELAY:
            raise DateError("date.errors.delay_too_long", value=clip(s))
    if not units:
        return None
    return _Delay(months, delta, frozenset(units))


def parse_delay(text: str) -> timedelta:
    """A delay: « 7j », « 1h », « 30s », « 1h30 », « 90 min », « 2 semaines », « dans 3
    jours », « 1 day 2 hours ». Months and years are refused (their length varies: write
    « 30j » or « 4 semaines »). Raises DateError."""
    s = prepare(text)
    s = re.sub(r"^(?:dans|in|\+)\s*", "", s)
    delay = _read_delay(s)
    if delay is None:
        raise DateError("date.errors.delay", value=clip(text))
    if delay.months:
        raise DateError("date.errors.delay_months", value=clip(text))
    if delay.delta > MAX_DELAY:
        raise DateError("date.errors.delay_too_long", value=clip(text))
    return delay.delta


def _config_delay(value: Any) -> timedelta:
    if isinstance(value, timedelta):
        return value
    try:
        return parse_delay(str(value))
    except DateError:
        raise PydanticCustomError("delay", "not a delay: {value}", {"value": value}) from None


# A config value written as a delay (« 7j », « 1h », « 30s »): `rappels: list[Delay]`.
Delay = Annotated[timedelta, BeforeValidator(_config_delay)]


def _add_months(moment: datetime, months: int) -> datetime:
    y, m = divmod(moment.month - 1 + months, 12)
    year, month = moment.year + y, m + 1
    last = (date(year + month // 12, month % 12 + 1, 1) - timedelta(days=1)).day
    return moment.replace(year=year, month=month, day=min(moment.day, last))


def _shift(now: datetime, delay: _Delay, sign: int) -> datetime:
    """`now` moved by `delay`: whole days and months on the calendar (the wall time stays),
    the rest as elapsed time. Exact to the second."""
    tz = _zone(now)
    base = now.replace(microsecond=0)
    days = delay.delta.days
    rest = delay.delta - timedelta(days=days)
    if delay.months or days:
        wall = _add_months(base.replace(tzinfo=None), sign * delay.months) + timedelta(days=sign * days)
        base = local_moment(wall.date(), wall.time(), tz)
    return (base.astimezone(UTC) + sign * rest).astimezone(tz)


def _relative(s: str, now: datetime) -> datetime | None:
    """« dans 10 minutes », « in 2 hours », « 3j », « 30s », « 2 semaines plus tard »,
    « il y a 2 semaines », « 3 days ago ». A bare delay of hours (« 2 heures », « 1h30 »)
    is a time of day, not a delay."""
    sign = 1
    if m := re.fullmatch(r"(?:dans|in|\+)\s*(.+)", s):
        body, bare = m.group(1), False
    elif m := re.fullmatch(r"il y a\s+(.+)", s) or re.fullmatch(r"(.+?)\s+ago", s):
        body, bare, sign = m.group(1), False, -1
    elif m := re.fullmatch(r"(.+?)\s+(?:plus tard|later|from now)", s):
        body, bare = m.group(1), False
    else:
        body, bare = s, True
    delay = _read_delay(body)
    if delay is None:
        return None
    if bare and "h" in delay.units and delay.units <= {"h", "min", "s"}:
        return None
    if delay.months > 120 or delay.delta > MAX_DELAY:
        raise DateError("date.errors.delay_too_long", value=clip(s))
    return _shift(now, delay, sign)


# --- moments --------------------------------------------------------------------------


def read_time(s: str) -> tuple[time | None, str]:
    """The time of day written in `s` (folded by `prepare`) and the text without it:
    « 14h », « 9 h 30 », « 14:30:15 », « 2pm », « midi », « 8h du soir ». DateError for
    « 25h »."""
    found: tuple[int, int, int, int, int] | None = None  # hour, minute, second, start, end
    if m := _AMPM.search(s):
        hour, minute = int(m.group(1)), int(m.group(2) or 0)
        if not 1 <= hour <= 12:
            raise DateError("date.errors.bad_time", value=clip(m.group(0)))
        hour = hour % 12 + (12 if m.group(3).startswith("p") else 0)
        found = (hour, minute, 0, m.start(), m.end())
    elif m := _TIME.search(s):
        hour = int(m.group(1))
        minute = int(m.group(2) or m.group(4) or 0)
        second = int(m.group(3) or m.group(5) or 0)
        end = m.end()
        if after := _AFTERNOON.match(s[end:]):
            if hour < 12:
                hour += 12
            end += after.end()
        elif morning := _MORNING.match(s[end:]):
            end += morning.end()
        found = (hour, minute, second, m.start(), end)
    elif m := _NAMED_TIMES.search(s):
        found = (12 if m.group(1) in ("midi", "noon") else 0, 0, 0, m.start(), m.end())
    if found is None:
        return None, s
    hour, minute, second, start, end = found
    if hour > 23 or minute > 59 or second > 59:
        raise DateError("date.errors.bad_time", value=clip(s[start:end]))
    return time(hour, minute, second), (s[:start] + " " + s[end:]).strip()


def _single(
    s: str,
    now: datetime,
    prefer: Prefer,
    default_time: time,
    *,
    day_of_time_alone: date | None = None,
    fallback: bool = True,
    echo: str = "",
) -> tuple[datetime, bool]:
    """One moment (no range) and whether a time was typed; DateError if unreadable (the
    error shows `echo`, what the member typed, rather than our folded form)."""
    echo = clip(echo or s)
    tz = _zone(now)
    now = now.astimezone(tz)
    moment = _relative(s, now)
    if moment is not None:
        return moment, True
    at, rest = read_time(s)
    try:
        day = _parse_day(rest, now, prefer, at)
    except _NoSuchDate:
        raise DateError("date.errors.no_such_date", value=echo) from None
    if day is None:
        if at is not None and not _FILLER.sub("", rest).strip():
            if day_of_time_alone is not None:
                day = day_of_time_alone
            elif prefer == "past" or at > now.time():
                day = now.date()
            else:
                day = now.date() + timedelta(days=1)
        else:
            found = _fallback(s, now, prefer) if fallback else None
            if found is None:
                raise DateError("date.errors.unreadable", value=echo)
            return found, found.time() != time(0)
    return local_moment(day, at or default_time, tz), at is not None


def parse_datetime(
    text: str, now: datetime, *, prefer: Prefer = "future", default_time: time = time(0, 0)
) -> datetime | None:
    """A moment from loose French or English text, relative to `now` (aware). Returns None
    when nothing sensible is recognised (or the text is over the caps), never a guess
    from unrelated words. For what members schedule, use `parse_when`."""
    try:
        return _single(prepare(text), now, prefer, default_time)[0]
    except DateError:
        return None


def parse_date(text: str, now: datetime, *, prefer: Prefer = "past") -> date | None:
    moment = parse_datetime(text, now, prefer=prefer)
    return moment.astimezone(_zone(now)).date() if moment else None


def _range_split(tokens: list[str]) -> tuple[list[str], list[str]] | None:
    """Where a range's start and end part: « 14h-15h30 », « de 14h à 15h30 », « du 16 au
    18 décembre », « 14h jusqu'à 15h », « from 2pm to 3pm », « entre 14h et 15h »."""
    opener = _RANGE_OPENERS.get(tokens[0], ()) if tokens else ()
    for i, tok in enumerate(tokens):
        left, right = tokens[:i], tokens[i + 1 :]
        if not left or not right:
            continue
        if tok in _STRONG_SEPARATORS or tok in opener:
            pass
        elif tok in _TIMED_SEPARATORS:
            if not (_has_time(" ".join(left)) and _has_time(" ".join(right))):
                continue
        else:
            continue
        if tokens[0] in _RANGE_OPENERS or tokens[0] == "from":
            left = left[1:]
        return (left, right) if left else None
    return None


def _has_time(s: str) -> bool:
    return bool(_TIME.search(s) or _AMPM.search(s) or _NAMED_TIMES.search(s))


def _borrow_month(left: list[str], right: list[str]) -> list[str]:
    """« du 16 au 18 décembre », « du mardi 16 au jeudi 18 décembre »: the start's month
    (and year) are the end's."""
    day = left[1:] if left and left[0] in WEEKDAYS else left
    if len(day) != 1 or not re.fullmatch(r"\d{1,2}(?:er)?", day[0]):
        return left
    for j, tok in enumerate(right):
        if tok.rstrip(".") in MONTHS:
            year = right[j + 1 : j + 2]
            return [*left, tok, *(year if year and _YEAR.fullmatch(year[0]) else [])]
    return left


def parse_when(
    text: str,
    now: datetime,
    *,
    default_time: time | None = None,
    allow_past: bool = False,
    allow_range: bool = True,
) -> When:
    """What a member schedules: « mardi prochain 14h », « 16/12 à 9h30 », « 16 décembre
    2026 14:00-15:30 », « de 14h à 15h30 », « du 16 au 18 décembre », « demain 10h »,
    « dans 10 minutes », « 3j », « vendredi 18h », « 14:30:15 ». A date alone starts at
    `default_time` (midnight if None) with `has_time` False. Raises DateError: unreadable,
    nonexistent (« 31 juin », « 25h »), over the caps, a range ending before it starts, or —
    unless `allow_past` — already past."""
    s = prepare(text)
    tz = _zone(now)
    now = now.astimezone(tz)
    at = default_time or time(0, 0)
    duration: timedelta | None = None
    if allow_range and (m := _DURATION.fullmatch(s)):  # « 16/12 14h pendant 1h30 »
        delay = _read_delay(m.group(2))
        if delay is not None and not delay.months and timedelta(0) < delay.delta <= MAX_DELAY:
            s, duration = m.group(1), delay.delta
    tokens = _DASH_AFTER_TIME.sub(r"\1 - ", s).split()
    if len(tokens) > 1 and tokens[0] in _UNTIL:  # « jusqu'à vendredi 18h »: a deadline
        tokens = tokens[1:]
    split = _range_split(tokens) if allow_range and duration is None else None
    if duration is not None:
        start, has_time = _single(" ".join(tokens), now, "future", at, fallback=False, echo=text)
        if not has_time:
            raise DateError("date.errors.range", value=clip(text))
        when = When(start, (start.astimezone(UTC) + duration).astimezone(tz), True)
    elif split is None:
        start, has_time = _single(" ".join(tokens), now, "future", at, fallback=False, echo=text)
        when = When(start, None, has_time)
    else:
        left, right = split
        borrowed = _borrow_month(left, right)
        start, has_time = _single(" ".join(borrowed), now, "future", at, fallback=False, echo=text)
        end, end_has_time = _single(
            " ".join(right), start, "future", at, day_of_time_alone=start.date(), fallback=False, echo=text
        )
        if end_has_time != has_time:
            raise DateError("date.errors.range", value=clip(text))
        if not has_time:  # whole days: the end is exclusive
            end = local_moment(end.date() + timedelta(days=1), time(0, 0), tz)
        # « du 18 au 16 décembre » would otherwise end next December.
        backwards = borrowed != left and end - start > timedelta(days=31)
        if backwards or end.astimezone(UTC) <= start.astimezone(UTC):
            raise DateError("date.errors.end_before_start", start=start, end=end)
        when = When(start, end, has_time)
    if not allow_past and when.is_past(now):
        raise DateError("date.errors.past", when=when.start if when.has_time else when.start.date())
    return when


# --- days -----------------------------------------------------------------------------


def _year_for(month: int, day: int, now: datetime, prefer: Prefer) -> int:
    """The nearest year, in the preferred direction, in which this day exists (29
    February included)."""
    step = 1 if prefer == "future" else -1
    year = now.year
    for _ in range(9):  # a 29 February comes at least once every 8 years
        candidate = _safe_date(year, month, day)
        if candidate is not None and (
            candidate >= now.date() if prefer == "future" else candidate <= now.date()
        ):
            return year
        year += step
    raise _NoSuchDate


def _existing(y: int, m: int, d: int) -> date:
    found = _safe_date(y, m, d)
    if found is None:
        raise _NoSuchDate
    return found


def _parse_day(s: str, now: datetime, prefer: Prefer, at: time | None = None) -> date | None:
    rest = _FILLER.sub(" ", _ORDINAL_SUFFIX.sub(r"\1", s)).split()
    if 2 <= len(rest) <= 3 and rest[0] in MONTHS and re.fullmatch(r"\d{1,2}", rest[1]):
        rest = [rest[1], rest[0], *rest[2:]]  # « December 16 2026 »
    joined = " ".join(rest)
    if not joined:
        return None
    if joined in _RELATIVE_DAYS:
        return now.date() + timedelta(days=_RELATIVE_DAYS[joined])
    if m := _ISO_DATE.fullmatch(joined):
        return _existing(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    if m := _NUMERIC_DATE.fullmatch(joined):
        d, mo = int(m.group(1)), int(m.group(2))
        if m.group(3):
            y = int(m.group(3))
            return _existing(y + 2000 if y < 100 else y, mo, d)
        _existing(2024, mo, d)  # 2024: a leap year, accepts 29/02
        return _existing(_year_for(mo, d, now, prefer), mo, d)
    words = joined.split()
    if len(words) == 2 and words[1] in WEEKDAYS:  # « next tuesday », « ce vendredi »
        if words[0] in ("next", "prochain", "prochaine"):
            words = [words[1], "prochain"]
        elif words[0] in ("last", "dernier"):
            words = [words[1], "dernier"]
        elif words[0] in ("ce", "this"):
            words = [words[1]]
    if words[0] in WEEKDAYS:
        # « mardi 16 décembre »: the written date decides, the weekday is decoration.
        if len(words) > 1 and words[1] not in ("prochain", "next", "dernier", "last"):
            return _parse_day(" ".join(words[1:]), now, prefer, at)
        if len(words) > 2:  # « lundi dernier eau »: not a date (a search's words follow)
            return None
        delta = (WEEKDAYS[words[0]] - now.weekday()) % 7
        if len(words) > 1 and words[1] in ("dernier", "last"):
            return now.date() - timedelta(days=(7 - delta) % 7 or 7)
        if len(words) > 1 and words[1] in ("prochain", "next"):
            return now.date() + timedelta(days=delta or 7)
        # Today's weekday with a time already past (or, preferring the past, still to
        # come) means the one a week away: « mercredi 14h » said on a Wednesday at 15 h.
        if prefer == "past":
            back = (7 - delta) % 7
            if back == 0 and at is not None and at > now.time():
                back = 7
            return now.date() - timedelta(days=back)
        if delta == 0 and at is not None and at <= now.time():
            delta = 7
        return now.date() + timedelta(days=delta)
    if m := _WRITTEN_DATE.fullmatch(joined):
        month = MONTHS.get(m.group(2))
        if month is None:
            return None
        d = int(m.group(1))
        if m.group(3):
            return _existing(int(m.group(3)), month, d)
        _existing(2024, month, d)  # 2024: a leap year, accepts 29 février
        return _existing(_year_for(month, d, now, prefer), month, d)
    if words[0] in MONTHS and (len(words) == 1 or (len(words) == 2 and _YEAR.fullmatch(words[1]))):
        # « depuis septembre », « mars 2026 »: the month's first day.
        month = MONTHS[words[0]]
        if len(words) == 2:
            return date(int(words[1]), month, 1)
        year = now.year
        if prefer == "past" and month > now.month:
            year -= 1
        elif prefer == "future" and month < now.month:
            year += 1
        return date(year, month, 1)
    if _YEAR.fullmatch(joined):  # « depuis 2025 »: its first day
        return date(int(joined), 1, 1)
    if joined.isdigit():  # « le 12 »: the nearest 12th, this month or the next/previous
        return _nearest_day(int(joined), now, prefer)
    return None


def _nearest_day(day: int, now: datetime, prefer: Prefer) -> date:
    if not 1 <= day <= 31:
        raise _NoSuchDate
    step = 1 if prefer == "future" else -1
    year, month = now.year, now.month
    for _ in range(3):  # a 31st is at most two months away
        found = _safe_date(year, month, day)
        if found is not None and (found >= now.date() if prefer == "future" else found <= now.date()):
            return found
        month += step
        if month == 0:
            year, month = year - 1, 12
        elif month == 13:
            year, month = year + 1, 1
    raise _NoSuchDate


def _safe_date(y: int, m: int, d: int) -> date | None:
    try:
        return date(y, m, d)
    except ValueError:
        return None


def _fallback(text: str, now: datetime, prefer: Prefer) -> datetime | None:
    # dateparser is heavy to import (~150 ms); only pay for it when our grammar fails. Its
    # cost grows with the text, which `prepare` has capped.
    import dateparser

    tz = now.tzinfo
    result = dateparser.parse(
        text,
        languages=["fr", "en"],
        settings={
            "PREFER_DATES_FROM": prefer,
            "TIMEZONE": str(tz),
            "RETURN_AS_TIMEZONE_AWARE": True,
            "RELATIVE_BASE": now.replace(tzinfo=None),
            "DATE_ORDER": "DMY",
            "STRICT_PARSING": False,
        },
    )
    if result is None:
        return None
    assert isinstance(tz, ZoneInfo)
    return result.astimezone(tz)


def iso_week(d: date) -> str:
    """« 2026-W48 »: the key the weekly jobs use."""
    year, week, _ = d.isocalendar()
    return f"{year}-W{week:02d}"
