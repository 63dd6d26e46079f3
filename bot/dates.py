"""Dates as French people write them, both ways.

Parsing handles the loose forms members type (« mardi prochain 14h », « 16/12 à 9h30 »,
« demain 10h », « 1er décembre », « il y a 2 semaines ») with a small grammar of our own,
and falls back to dateparser for the rest; dateparser alone misses « mardi prochain 14h ».
All results are aware datetimes in the configured zone (DST-correct through zoneinfo).
Formatting writes « mardi 16 décembre à 14 h » from the locale catalog."""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Literal
from zoneinfo import ZoneInfo

from bot.text import fold

if TYPE_CHECKING:
    from bot.i18n import Translator

Prefer = Literal["future", "past"]

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
_MONTHS = {
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
_TIME = re.compile(r"\b(\d{1,2})\s*(?:h|:)\s*(\d{2})?\b(?!\s*/)")
_NUMERIC_DATE = re.compile(r"\b(\d{1,2})[/.-](\d{1,2})(?:[/.-](\d{2,4}))?\b")
_ISO_DATE = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b")
# No trailing \b: « 15 déc. » ends on the abbreviation's dot (only used with fullmatch).
_WRITTEN_DATE = re.compile(r"\b(\d{1,2})(?:er)?\s+([a-z]+)\.?(?:\s+(\d{4}))?")
_FILLER = re.compile(r"\b(le|a|at|on|the|de|du|vers)\b")
_YEAR = re.compile(r"(19|20)\d{2}")


def _local(d: date, t: time, tz: ZoneInfo) -> datetime:
    # zoneinfo picks the right offset; a wall time skipped by DST is moved past the gap.
    naive = datetime.combine(d, t)
    aware = naive.replace(tzinfo=tz)
    roundtrip = aware.astimezone(ZoneInfo("UTC")).astimezone(tz)
    return roundtrip if roundtrip.replace(tzinfo=None) != naive else aware


class _NoSuchDate(Exception):
    """A date written in a form we read, that does not exist (« 32/13 », « 31 juin »):
    the answer is None, not whatever dateparser would make of it."""


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


def parse_datetime(
    text: str, now: datetime, *, prefer: Prefer = "future", default_time: time = time(0, 0)
) -> datetime | None:
    """A moment from loose French or English text, relative to `now` (aware). Returns None
    when nothing sensible is recognised, never a guess from unrelated words."""
    tz = now.tzinfo if isinstance(now.tzinfo, ZoneInfo) else ZoneInfo("Europe/Paris")
    now = now.astimezone(tz)
    s = fold(text).strip()
    if not s:
        return None
    at: time | None = None
    m = _TIME.search(s)
    if m and (m.group(2) or "h" in m.group(0)):
        hour, minute = int(m.group(1)), int(m.group(2) or 0)
        if hour > 23 or minute > 59:
            return None
        at = time(hour, minute)
        s = (s[: m.start()] + " " + s[m.end() :]).strip()
    try:
        day = _parse_day(s, now, prefer, at)
    except _NoSuchDate:
        return None
    if day is None:
        if at is not None and not _FILLER.sub("", s).strip():
            day = now.date() if prefer == "past" or at > now.time() else now.date() + timedelta(1)
        else:
            return _fallback(text, now, prefer)
    return _local(day, at or default_time, tz)


def parse_date(text: str, now: datetime, *, prefer: Prefer = "past") -> date | None:
    moment = parse_datetime(text, now, prefer=prefer)
    return moment.date() if moment else None


def _parse_day(s: str, now: datetime, prefer: Prefer, at: time | None = None) -> date | None:
    rest = _FILLER.sub(" ", s).split()
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
        month = _MONTHS.get(m.group(2))
        if month is None:
            return None
        d = int(m.group(1))
        if m.group(3):
            return _existing(int(m.group(3)), month, d)
        _existing(2024, month, d)  # 2024: a leap year, accepts 29 février
        return _existing(_year_for(month, d, now, prefer), month, d)
    if words[0] in _MONTHS and (len(words) == 1 or (len(words) == 2 and _YEAR.fullmatch(words[1]))):
        # « depuis septembre », « mars 2026 »: the month's first day.
        month = _MONTHS[words[0]]
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
    # dateparser is heavy to import (~150 ms); only pay for it when our grammar fails.
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


def format_date(d: date, tr: Translator, style: str = "date") -> str:
    """« mardi 16 décembre » (the year is added when it is not the current one)."""
    if style == "short":
        return d.strftime("%d/%m/%Y")
    if style == "iso":
        return d.isoformat()
    weekday = tr.list("date.weekdays")[d.weekday()]
    month = tr.list("date.months")[d.month - 1]
    day = tr.t("date.first_day") if d.day == 1 else str(d.day)
    today = datetime.now(tr.tz).date()
    key = "date.date" if d.year == today.year else "date.date_year"
    if style == "day_month":
        key = "date.day_month"
    return tr.template(key, {}).format(weekday=weekday, day=day, month=month, year=d.year)


def format_time(t: time, tr: Translator) -> str:
    """« 14 h », « 9 h 30 » in French; « 14:00 » in English."""
    key = "date.time_hour" if t.minute == 0 else "date.time_minutes"
    return tr.template(key, {}).format(hour=t.hour, minute=f"{t.minute:02d}")


def format_datetime(dt: datetime, tr: Translator, style: str = "datetime") -> str:
    local = dt.astimezone(tr.tz) if dt.tzinfo else dt.replace(tzinfo=tr.tz)
    if style in ("date", "short", "iso", "day_month"):
        return format_date(local.date(), tr, style)
    if style == "time":
        return format_time(local.time(), tr)
    return tr.template("date.datetime", {}).format(
        date=format_date(local.date(), tr), time=format_time(local.time(), tr)
    )


def iso_week(d: date) -> str:
    """« 2026-W48 »: the key the weekly jobs use."""
    year, week, _ = d.isocalendar()
    return f"{year}-W{week:02d}"
