"""One recurrence grammar for everything the bot does again and again: the surveys' pulse
cadence and the scheduled announcements.

`parse_recurrence` reads French and English phrases (« chaque lundi 9h », « tous les
lundis à 9 h », « chaque jour à 8h », « chaque 1er lundi à 10h », « chaque dernier
vendredi du mois 17h », « toutes les deux semaines », « chaque 15 du mois », « every
monday 9am ») and 5-field cron (« cron 0 9 * * 1 », or the bare fields). The result, a
`Recurrence`, is a plain value: `to_json` / `from_json` store it as text and rebuild it
identically, and everything it computes is a pure function of its arguments:

- `next_after(moment)`: the first occurrence strictly after `moment`;
- `last_at_or_before(moment)`: the latest occurrence at or before it;
- `due(now, after=…, grace=…)`: the occurrence a job should run now, given the last one
  done (or the creation time): the latest occurrence not yet done, if `now` is within
  `grace` of it — older missed ones are skipped, never run twice (see the digest's
  `due_slot`, the same pattern);
- `key(occurrence)`: a stable text for exactly-once (« 2026-03-30T09:00:00 », the local
  wall time), to put in a dedup key;
- `describe(tr)`: « chaque lundi à 9 h », for listings.

Rules where the phrase is silent (the README's dates section says the same):
- no time: 9 h (`DEFAULT_TIME`);
- no day: the start's — « chaque semaine », « toutes les deux semaines », « chaque mois »,
  « chaque année » repeat the weekday / day of the month / date of the start, which is
  the day the phrase is read unless « à partir du … » names another; intervals
  (« toutes les deux semaines », « tous les 3 jours ») count from the start;
- a day of the month a month lacks (« chaque 31 du mois », 29 February) is that month's
  last day;
- wall time is kept across clock changes (9 h stays 9 h); a time skipped by the spring
  change (2:30 on the last Sunday of March) happens at 3:30 that day; one that happens
  twice in autumn happens once, the first time (summer time). Cron is read the same way,
  in the recurrence's zone, with cron's rule that a day of the month and a weekday both
  restricted match either.
- « toutes les heures », « toutes les 10 secondes » (mainly for tests) count from the
  start day's midnight, in elapsed time."""

from __future__ import annotations

import json
import re
from bisect import bisect_left, bisect_right
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from functools import cached_property
from typing import TYPE_CHECKING, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.dates import (
    MAX_PHRASE_CHARS,
    MAX_PHRASE_WORDS,
    MONTHS,
    NUMBER_WORDS,
    WEEKDAYS,
    DateError,
    clip,
    local_moment,
    parse_when,
    prepare,
)
from bot.dates import read_time as _read_time
from bot.text import fold

if TYPE_CHECKING:
    from bot.i18n import Translator

Kind = Literal["daily", "weekly", "monthly", "monthly_weekday", "yearly", "every", "cron"]
KINDS: tuple[str, ...] = ("daily", "weekly", "monthly", "monthly_weekday", "yearly", "every", "cron")
DEFAULT_TIME = time(9, 0)
FORMAT_VERSION = 1
# How far the search for an occurrence goes: a 29 February comes at least every 8 years.
_SEARCH_DAYS = 366 * 9
_MAX_EVERY = {"daily": 366, "weekly": 52, "monthly": 24, "monthly_weekday": 24, "yearly": 4}
_MAX_SECONDS = 7 * 86400
WORKDAYS = (0, 1, 2, 3, 4)


@dataclass(frozen=True)
class Recurrence:
    """A rule of occurrences in a time zone. Fields by kind:
    daily (`every` days), weekly (`weekdays`, every `every` weeks), monthly (`day`, -1 for
    the last, every `every` months), monthly_weekday (the `nth` — 1 to 4, or -1 for the
    last — of `weekdays[0]`), yearly (`month`, `day`), every (`seconds`, from `start`'s
    midnight), cron (`cron`). `at` is the wall time (all but every/cron); `start`, when
    set, is the first day that may have an occurrence and the anchor of intervals."""

    kind: Kind
    at: time = DEFAULT_TIME
    every: int = 1
    weekdays: tuple[int, ...] = ()
    day: int = 1
    nth: int = 1
    month: int = 1
    seconds: int = 0
    cron: str = ""
    start: date | None = None
    tz: str = "Europe/Paris"

    # --- storing ------------------------------------------------------------------

    def to_json(self) -> str:
        """Compact, stable text (sorted keys, only what the kind uses) for the database."""
        data: dict[str, Any] = {"v": FORMAT_VERSION, "kind": self.kind, "tz": self.tz}
        if self.kind == "cron":
            data["cron"] = self.cron
        elif self.kind == "every":
            data["seconds"] = self.seconds
        else:
            data["at"] = self.at.isoformat()
            if self.every != 1:
                data["every"] = self.every
        if self.kind in ("weekly", "monthly_weekday"):
            data["weekdays"] = list(self.weekdays)
        if self.kind in ("monthly", "yearly"):
            data["day"] = self.day
        if self.kind == "monthly_weekday":
            data["nth"] = self.nth
        if self.kind == "yearly":
            data["month"] = self.month
        if self.start is not None:
            data["start"] = self.start.isoformat()
        return json.dumps(data, sort_keys=True, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str) -> Recurrence:
        """The value `to_json` wrote; ValueError for anything else."""
        data = json.loads(text)
        if not isinstance(data, dict) or data.get("v") != FORMAT_VERSION:
            raise ValueError(f"not a stored recurrence: {text[:80]!r}")
        try:
            rec = cls(
                kind=data["kind"],
                at=time.fromisoformat(data.get("at", "09:00")),
                every=int(data.get("every", 1)),
                weekdays=tuple(int(d) for d in data.get("weekdays", ())),
                day=int(data.get("day", 1)),
                nth=int(data.get("nth", 1)),
                month=int(data.get("month", 1)),
                seconds=int(data.get("seconds", 0)),
                cron=str(data.get("cron", "")),
                start=date.fromisoformat(data["start"]) if data.get("start") else None,
                tz=str(data.get("tz", "Europe/Paris")),
            )
        except (KeyError, TypeError) as exc:
            raise ValueError(f"not a stored recurrence: {text[:80]!r}") from exc
        rec.check()
        return rec

    def check(self) -> None:
        """ValueError if the fields do not make a rule (or its cron never fires)."""
        if self.kind not in KINDS:
            raise ValueError(f"unknown kind {self.kind!r}")
        try:
            ZoneInfo(self.tz)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown zone {self.tz!r}") from exc
        if not 1 <= self.every <= _MAX_EVERY.get(self.kind, 1):
            raise ValueError(f"every={self.every} out of range for {self.kind}")
        if self.kind in ("weekly", "monthly_weekday") and (
            not self.weekdays or any(not 0 <= d <= 6 for d in self.weekdays)
        ):
            raise ValueError("weekdays missing or out of range")
        if self.kind == "weekly" and tuple(sorted(set(self.weekdays))) != self.weekdays:
            raise ValueError("weekdays must be sorted and distinct")
        if self.kind == "monthly_weekday" and (len(self.weekdays) != 1 or self.nth not in (1, 2, 3, 4, -1)):
            raise ValueError("monthly_weekday needs one weekday and nth in 1–4 or -1")
        if self.kind in ("monthly", "yearly") and not (1 <= self.day <= 31 or self.day == -1):
            raise ValueError(f"day {self.day} out of range")
        if self.kind == "yearly" and not 1 <= self.month <= 12:
            raise ValueError(f"month {self.month} out of range")
        if self.kind == "every" and not 1 <= self.seconds <= _MAX_SECONDS:
            raise ValueError(f"seconds {self.seconds} out of range")
        if self.kind == "every" and self.start is None:
            raise ValueError("an interval needs its start")
        if self.every > 1 and self.start is None:
            raise ValueError("an interval needs its start")
        if self.kind == "cron":
            _Cron.parse(self.cron)  # raises ValueError
            # Every rule but a cron has an occurrence each year; a cron may name a day that
            # never comes (30 February). 2024 has a 29 February.
            if self.next_after(datetime(2023, 12, 31, tzinfo=UTC)) is None:
                raise ValueError("never happens")

    # --- computing ----------------------------------------------------------------

    @cached_property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.tz)

    @cached_property
    def _cron(self) -> _Cron:
        return _Cron.parse(self.cron)

    @cached_property
    def _times(self) -> tuple[time, ...]:
        if self.kind == "cron":
            spec = self._cron
            return tuple(time(h, m) for h in sorted(spec.hours) for m in sorted(spec.minutes))
        return (self.at,)

    def _matches(self, d: date) -> bool:
        if self.start is not None and d < self.start:
            return False
        if self.every == 1 or self.kind == "cron":
            return self._matches_day(d)
        anchor = self._anchor
        if self.kind == "daily":
            return (d - anchor).days % self.every == 0
        if self.kind == "weekly":
            weeks = (_monday(d) - _monday(anchor)).days // 7
            return weeks % self.every == 0 and self._matches_day(d)
        if self.kind == "yearly":
            return (d.year - anchor.year) % self.every == 0 and self._matches_day(d)
        months = (d.year - anchor.year) * 12 + d.month - anchor.month
        return months % self.every == 0 and self._matches_day(d)

    @cached_property
    def _anchor(self) -> date:
        """Where an interval counts from: the first day at or after the start that the rule
        (without its interval) takes — « un lundi sur deux » typed on a Wednesday starts
        next Monday, « tous les 2 mois le 15 » typed on the 20th starts next month."""
        assert self.start is not None  # check(): an interval has its start
        day = self.start
        for _ in range(_SEARCH_DAYS):
            if self.kind == "daily" or self._matches_day(day):
                return day
            day += timedelta(days=1)
        return self.start

    def _matches_day(self, d: date) -> bool:
        """Whether the rule, interval aside, takes the day `d`."""
        kind = self.kind
        if kind == "daily":
            return True
        if kind == "weekly":
            return d.weekday() in self.weekdays
        if kind == "monthly":
            return d.day == _day_in_month(d.year, d.month, self.day)
        if kind == "monthly_weekday":
            if d.weekday() != self.weekdays[0]:
                return False
            if self.nth == -1:
                return d.day + 7 > _month_length(d.year, d.month)
            return (d.day - 1) // 7 + 1 == self.nth
        if kind == "yearly":
            return d.month == self.month and d.day == _day_in_month(d.year, d.month, self.day)
        return self._cron.matches(d)

    def next_after(self, moment: datetime) -> datetime | None:
        """The first occurrence strictly after `moment` (aware), in the recurrence's zone;
        None only for a rule that never happens again (never for what `parse_recurrence`
        returns)."""
        if self.kind == "every":
            return self._every_after(moment)
        # Compared in UTC: two times of one zone compare by wall clock, which is wrong in
        # the hour that happens twice in autumn.
        tz, limit = self.zone, moment.astimezone(UTC)
        local = moment.astimezone(tz)
        day = local.date() - timedelta(days=1)
        for _ in range(_SEARCH_DAYS):
            if self._matches(day):
                times = self._times
                if day == local.date():  # skip the times long past (a cron's 288 a day)
                    times = times[bisect_left(times, _floor_time(local)) :]
                elif day < local.date():  # the eve: only its last hours may come after
                    times = times[bisect_left(times, time(21, 0)) :]
                if _steady(day, tz):  # wall order is time order: the first one after wins
                    for t in times:
                        if (utc := local_moment(day, t, tz).astimezone(UTC)) > limit:
                            return utc.astimezone(tz)
                else:
                    found = [u for t in times if (u := local_moment(day, t, tz).astimezone(UTC)) > limit]
                    if found:
                        return min(found).astimezone(tz)
            day += timedelta(days=1)
        return None

    def last_at_or_before(self, moment: datetime) -> datetime | None:
        """The latest occurrence at or before `moment`, or None if there is none (before
        the start, or nothing within the search's reach)."""
        if self.kind == "every":
            return self._every_before(moment)
        tz, limit = self.zone, moment.astimezone(UTC)
        local = moment.astimezone(tz)
        day = local.date() + timedelta(days=1)
        for _ in range(_SEARCH_DAYS):
            if self.start is not None and day < self.start:
                return None
            if self._matches(day):
                times = self._times
                if day == local.date():
                    times = times[: bisect_right(times, _ceiling_time(local))]
                elif day > local.date():  # the morrow: only its first hours may come before
                    times = times[: bisect_right(times, time(3, 0))]
                if _steady(day, tz):
                    for t in reversed(times):
                        if (utc := local_moment(day, t, tz).astimezone(UTC)) <= limit:
                            return utc.astimezone(tz)
                else:
                    found = [u for t in times if (u := local_moment(day, t, tz).astimezone(UTC)) <= limit]
                    if found:
                        return max(found).astimezone(tz)
            day -= timedelta(days=1)
        return None

    def due(self, now: datetime, *, after: datetime, grace: timedelta) -> datetime | None:
        """The occurrence to run at `now`: the latest one at or before `now`, if it is
        later than `after` (the last occurrence done, or the rule's creation time) and
        `now` is at most `grace` past it. Missed occurrences older than that one are
        skipped (a job that comes back after a week posts once, not seven times)."""
        occ = self.last_at_or_before(now)
        if occ is None:
            return None
        at = occ.astimezone(UTC)  # elapsed time, whatever the clock change
        if at <= after.astimezone(UTC) or now.astimezone(UTC) > at + grace:
            return None
        return occ

    def key(self, occurrence: datetime) -> str:
        """« 2026-03-30T09:00:00 »: the occurrence's local wall time, stable for a dedup key
        (two occurrences of one rule never share it)."""
        return occurrence.astimezone(self.zone).replace(tzinfo=None).isoformat(timespec="seconds")

    def _every_base(self) -> datetime:
        assert self.start is not None
        return local_moment(self.start, time(0, 0), self.zone).astimezone(UTC)

    def _every_after(self, moment: datetime) -> datetime:
        base, step = self._every_base(), timedelta(seconds=self.seconds)
        if moment < base:
            return base.astimezone(self.zone)
        k = (moment - base) // step + 1
        return (base + k * step).astimezone(self.zone)

    def _every_before(self, moment: datetime) -> datetime | None:
        base, step = self._every_base(), timedelta(seconds=self.seconds)
        if moment < base:
            return None
        return (base + ((moment - base) // step) * step).astimezone(self.zone)

    # --- writing ------------------------------------------------------------------

    def describe(self, tr: Translator) -> str:
        """« chaque lundi à 9 h », « toutes les 2 semaines, le lundi à 9 h, à partir du
        lundi 5 janvier 2026 », « chaque premier lundi du mois à 10 h »."""
        from bot.dates_format import format_date, format_time

        at = format_time(self.at, tr)
        weekday_names = tr.list("date.weekdays")
        if self.kind == "daily":
            text = tr.t("recurrence.daily", n=self.every, time=at)
        elif self.kind == "weekly":
            if self.weekdays == WORKDAYS and self.every == 1:
                text = tr.t("recurrence.workdays", time=at)
            else:
                days = _join([weekday_names[d] for d in self.weekdays], tr)
                text = tr.t("recurrence.weekly", n=self.every, weekdays=days, time=at)
        elif self.kind == "monthly":
            text = tr.t("recurrence.monthly", n=self.every, day=self._day_text(tr), time=at)
        elif self.kind == "monthly_weekday":
            nth = tr.list("recurrence.ordinals")[self.nth - 1] if self.nth > 0 else tr.t("recurrence.last")
            text = tr.t(
                "recurrence.monthly_weekday",
                n=self.every,
                nth=nth,
                weekday=weekday_names[self.weekdays[0]],
                time=at,
            )
        elif self.kind == "yearly":
            day = tr.t("date.first_day") if self.day == 1 else str(self.day)
            month = tr.list("date.months")[self.month - 1]
            text = tr.t("recurrence.yearly", n=self.every, day=day, month=month, time=at)
        elif self.kind == "every":
            text = _describe_seconds(self.seconds, tr)
        else:
            text = tr.t("recurrence.cron", expr=self.cron)
        if self.start is not None and self.kind != "every":
            text = tr.t("recurrence.since", rule=text, date=format_date(self.start, tr, "full"))
        return text

    def _day_text(self, tr: Translator) -> str:
        if self.day == -1:
            return tr.t("recurrence.last_day")
        day = tr.t("date.first_day") if self.day == 1 else str(self.day)
        return tr.t("recurrence.day_clamped" if self.day > 28 else "recurrence.day", day=day)


def _join(names: list[str], tr: Translator) -> str:
    if len(names) == 1:
        return names[0]
    return tr.t("recurrence.list", first=", ".join(names[:-1]), last=names[-1])


def _describe_seconds(seconds: int, tr: Translator) -> str:
    for unit, size in (("hours", 3600), ("minutes", 60), ("seconds", 1)):
        if seconds % size == 0:
            return tr.t(f"recurrence.every_{unit}", n=seconds // size)
    return tr.t("recurrence.every_seconds", n=seconds)  # unreachable: size 1 divides


def _monday(d: date) -> date:
    return d - timedelta(days=d.weekday())


def _month_length(year: int, month: int) -> int:
    nxt = date(year + month // 12, month % 12 + 1, 1)
    return (nxt - timedelta(days=1)).day


def _day_in_month(year: int, month: int, day: int) -> int:
    length = _month_length(year, month)
    return length if day == -1 else min(day, length)


def _floor_time(local: datetime) -> time:
    """Times of `local`'s day worth trying after it: from three hours before it (a wall
    time moved by a clock change lands at most an hour away)."""
    return time(0, 0) if local.hour < 3 else time(local.hour - 3, local.minute)


def _ceiling_time(local: datetime) -> time:
    """Times of `local`'s day worth trying before it: up to three hours after it."""
    return time(23, 59, 59) if local.hour > 20 else time(local.hour + 3, local.minute, local.second)


def _steady(day: date, tz: ZoneInfo) -> bool:
    """Whether the zone's offset is the same all day (no clock change that day)."""
    morning = datetime.combine(day, time(0, 0), tz).utcoffset()
    return morning == datetime.combine(day, time(23, 59, 59), tz).utcoffset()


# --- cron -----------------------------------------------------------------------------

_CRON_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_CRON_DAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
_CRON_MACROS = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}
_CRON_FIELD = re.compile(r"[0-9a-z*/,\-]+")


@dataclass(frozen=True)
class _Cron:
    minutes: frozenset[int]
    hours: frozenset[int]
    days: frozenset[int]
    months: frozenset[int]
    weekdays: frozenset[int]  # Monday=0, as Python counts
    any_day: bool
    any_weekday: bool

    @classmethod
    def parse(cls, expr: str) -> _Cron:
        fields = _CRON_MACROS.get(expr.strip(), expr).split()
        if len(fields) != 5:
            raise ValueError("five fields expected")
        minutes = _cron_field(fields[0], 0, 59)
        hours = _cron_field(fields[1], 0, 23)
        days = _cron_field(fields[2], 1, 31)
        months = _cron_field(fields[3], 1, 12, _CRON_MONTHS)
        sunday_first = _cron_field(fields[4], 0, 7, _CRON_DAYS)
        weekdays = frozenset((d - 1) % 7 for d in sunday_first)  # cron 0 and 7: Sunday
        return cls(minutes, hours, days, months, weekdays, fields[2] == "*", fields[4] == "*")

    def matches(self, d: date) -> bool:
        if d.month not in self.months:
            return False
        in_month = d.day in self.days
        in_week = d.weekday() in self.weekdays
        if self.any_day or self.any_weekday:  # cron: both restricted → either matches
            return in_month and in_week
        return in_month or in_week


def _cron_field(text: str, low: int, high: int, names: tuple[str, ...] = ()) -> frozenset[int]:
    if not _CRON_FIELD.fullmatch(text):
        raise ValueError(f"bad field {text!r}")
    base = 1 if names is _CRON_MONTHS else 0

    def value(part: str) -> int:
        if part in names:
            return names.index(part) + base
        if not part.isdigit() or len(part) > 2:
            raise ValueError(f"bad value {part!r}")
        n = int(part)
        if not low <= n <= high:
            raise ValueError(f"{n} out of {low}–{high}")
        return n

    out: set[int] = set()
    for item in text.split(","):
        body, _, step_text = item.partition("/")
        step = 1
        if step_text:
            if not step_text.isdigit() or not 1 <= int(step_text) <= high - low + 1:
                raise ValueError(f"bad step {item!r}")
            step = int(step_text)
        if body == "*":
            first, last = low, high
        elif "-" in body:
            a, _, b = body.partition("-")
            first, last = value(a), value(b)
            if first > last:
                raise ValueError(f"empty range {item!r}")
        else:
            first = value(body)
            last = high if step_text else first
        out.update(range(first, last + 1, step))
    return frozenset(out)


# --- reading --------------------------------------------------------------------------

_RAW_CRON = re.compile(r"(?:[0-9*/,\-]+\s+){4}[0-9a-z*/,\-]+|@[a-z]+")
_START = re.compile(r"(?:^|\s|,)\s*(?:a partir d(?:u|e|')|des le|starting(?: on| from)?|beginning)\s*(.+)$")
_BARE_HOUR = re.compile(r"\b(?:a|at)\s+(\d{1,2})(?=\s*$|\s*,)")
_PHRASES = (  # rewritten before reading: several words that make one notion
    ("en semaine", "ouvres"),
    ("jours ouvres", "ouvres"),
    ("jours ouvrables", "ouvres"),
    ("jour ouvre", "ouvres"),
    ("jour ouvrable", "ouvres"),
    ("working days", "ouvres"),
    ("business days", "ouvres"),
    ("weekdays", "ouvres"),
    ("fin de mois", "fin du mois"),
    ("end of the month", "fin du mois"),
    ("end of month", "fin du mois"),
    ("every other", "every 2"),
    ("each other", "every 2"),
)
_ENGLISH_DAYS = frozenset({"monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"})
_EVERY_WORDS = frozenset({"chaque", "tous", "toutes", "every", "each"})
_ADJECTIVES = {  # « quotidien » = every day
    "quotidien": "d",
    "quotidienne": "d",
    "quotidiennement": "d",
    "daily": "d",
    "hebdomadaire": "w",
    "hebdo": "w",
    "weekly": "w",
    "mensuel": "mo",
    "mensuelle": "mo",
    "mensuellement": "mo",
    "monthly": "mo",
    "annuel": "y",
    "annuelle": "y",
    "annuellement": "y",
    "yearly": "y",
    "annually": "y",
    "hourly": "h",
}
_UNIT_WORDS = {
    **dict.fromkeys(("jour", "jours", "day", "days"), "d"),
    **dict.fromkeys(("semaine", "semaines", "week", "weeks"), "w"),
    **dict.fromkeys(("mois", "month", "months"), "mo"),
    **dict.fromkeys(("an", "ans", "annee", "annees", "year", "years"), "y"),
    **dict.fromkeys(("trimestre", "trimestres", "quarter", "quarters"), "q"),
    **dict.fromkeys(("semestre", "semestres"), "half"),
    **dict.fromkeys(("heure", "heures", "hour", "hours", "h"), "h"),
    **dict.fromkeys(("minute", "minutes", "min", "mins", "mn"), "min"),
    **dict.fromkeys(("seconde", "secondes", "second", "seconds", "sec", "secs", "s"), "s"),
}
_ORDINALS = {
    "premier": 1,
    "premiere": 1,
    "premiers": 1,
    "premieres": 1,
    "first": 1,
    "1er": 1,
    "1ere": 1,
    "1st": 1,
    "deuxieme": 2,
    "deuxiemes": 2,
    "second": 2,
    "seconde": 2,
    "2e": 2,
    "2eme": 2,
    "2nd": 2,
    "troisieme": 3,
    "troisiemes": 3,
    "third": 3,
    "3e": 3,
    "3eme": 3,
    "3rd": 3,
    "quatrieme": 4,
    "quatriemes": 4,
    "fourth": 4,
    "4e": 4,
    "4eme": 4,
    "4th": 4,
    "dernier": -1,
    "derniere": -1,
    "derniers": -1,
    "dernieres": -1,
    "last": -1,
}
_FILLERS = frozenset({"le", "la", "les", "l", "a", "at", "on", "the", "en", "in", "d", "et", "and", ","})
_OF = frozenset({"du", "de", "des", "of"})
_TO = frozenset({"au", "to", "-", "through"})
_TOKEN = re.compile(r"\d+(?:er|ere|eme|e|st|nd|rd|th)?|[a-z]+(?:-[a-z]+)*|[,\-]")


@dataclass
class _Reading:
    """What the words of a phrase said, before deciding the kind."""

    recurrent: bool = False
    every: int | None = None  # the interval's count (« toutes les 2 semaines »)
    unit: str | None = None  # the interval's unit
    month_context: bool = False  # « du mois », « de chaque mois »
    weekdays: list[int] = field(default_factory=list)
    nth: int | None = None  # « premier lundi »
    day: int | None = None  # « le 15 », « le dernier jour »
    month: int | None = None  # « 1er septembre »
    sur: int | None = None  # « un lundi sur deux »


def parse_recurrence(text: str, now: datetime, *, default_time: time = DEFAULT_TIME) -> Recurrence:
    """A recurrence from a French or English phrase, or cron (« cron 0 9 * * 1 », or the
    five fields alone), read in `now`'s zone; `now` is the start when the phrase needs one
    and names none. Raises DateError (`recurrence.errors.*`) with examples."""
    s = prepare(text, keep_commas=True)
    tz = now.tzinfo if isinstance(now.tzinfo, ZoneInfo) else ZoneInfo("Europe/Paris")
    today = now.astimezone(tz).date()
    if m := re.fullmatch(r"cron\s*:?\s*(.+)", s):
        s = m.group(1)
        if not _RAW_CRON.fullmatch(s):
            raise DateError("recurrence.errors.cron", value=clip(text))
    if _RAW_CRON.fullmatch(s):
        expr = s
        try:
            _Cron.parse(expr)
        except ValueError:
            raise DateError("recurrence.errors.cron", value=clip(text)) from None
        rec = Recurrence("cron", cron=" ".join(_CRON_MACROS.get(expr, expr).split()), tz=tz.key)
        if rec.next_after(now) is None:
            raise DateError("recurrence.errors.never", value=clip(text))
        return rec
    start: date | None = None
    start_at: time | None = None  # « à partir du 5 janvier à 10h »: the time, if none before
    if m := _START.search(s):
        try:
            begins = parse_when(m.group(1), now, allow_past=True, allow_range=False)
        except DateError:
            raise DateError("recurrence.errors.start", value=clip(m.group(1))) from None
        start = begins.start.astimezone(tz).date()
        if begins.has_time:
            start_at = begins.start.astimezone(tz).time()
        s = s[: m.start()].strip(" ,")
    for phrase, plain in _PHRASES:
        s = s.replace(phrase, plain)
    s = _BARE_HOUR.sub(r"\1h", s)
    at: time | None = None
    if not re.search(r"\b(?:heures?|hours?|h|hourly)\b", s) or re.search(r"\d\s*h\b", s):
        try:
            at, s = _read_time(s)
        except DateError:
            raise DateError("recurrence.errors.unreadable", value=clip(text)) from None
    at = at or start_at
    reading = _read_words(s)
    if reading is None or not reading.recurrent:
        first = s.split()[0] if s.split() else ""
        if reading is not None and _weekday(first) is not None:  # « lundi 9h »: a one-off
            word = "every" if first.removesuffix("s") in _ENGLISH_DAYS else "chaque"
            example = clip(f"{word} {text.strip()}")
            raise DateError("recurrence.errors.one_off", value=clip(text), example=example)
        raise DateError("recurrence.errors.unreadable", value=clip(text))
    try:
        rec = _decide(reading, at or default_time, start, today, tz.key, has_time=at is not None)
        rec.check()
    except ValueError:
        raise DateError("recurrence.errors.unreadable", value=clip(text)) from None
    if rec.next_after(now) is None:
        raise DateError("recurrence.errors.never", value=clip(text))
    return rec


def _read_words(s: str) -> _Reading | None:
    tokens = _TOKEN.findall(s)
    if re.sub(r"[\s'.]", "", _TOKEN.sub("", s)):
        return None  # characters we do not read
    r = _Reading()
    i = 0

    def peek(k: int = 1) -> str:
        return tokens[i + k] if i + k < len(tokens) else ""

    while i < len(tokens):
        tok = tokens[i]
        nxt = peek()
        if tok in _FILLERS:
            pass
        elif tok in _EVERY_WORDS:
            r.recurrent = True
            j = i + 1
            while j < len(tokens) and tokens[j] in ("les", "the", "le", "la"):
                j += 1
            after = tokens[j] if j < len(tokens) else ""
            ordinal = (
                after in _ORDINALS and _weekday(tokens[j + 1] if j + 1 < len(tokens) else "") is not None
            )
            if (after in _UNIT_WORDS or after in _ADJECTIVES) and not ordinal:
                r.unit = r.unit or _UNIT_WORDS.get(after) or _ADJECTIVES[after]
                r.every = r.every or 1
                i = j + 1
                continue
        elif tok in _ADJECTIVES:
            r.recurrent = True
            r.unit, r.every = _ADJECTIVES[tok], r.every or 1
        elif tok == "ouvres":
            r.recurrent = True
            r.weekdays.extend(WORKDAYS)
        elif tok in _OF:
            # « du mois », « de chaque mois », « of the month », « of every month »
            j = i + 1
            while j < len(tokens) and tokens[j] in ("the", "chaque", "every", "each"):
                j += 1
            if j < len(tokens) and _UNIT_WORDS.get(tokens[j]) == "mo":
                r.month_context = r.recurrent = True
                i = j + 1
                continue
        elif tok == "sur":  # « un lundi sur deux »
            count = _number(nxt)
            if count is None:
                return None
            r.sur, r.recurrent = count, True
            i += 2
            continue
        elif tok == "fin":  # « fin du mois »
            r.day = -1
        elif (wd := _weekday(tok)) is not None:
            if nxt in _TO and _weekday(peek(2)) is not None:  # « du lundi au vendredi »
                last = _weekday(peek(2))
                assert last is not None
                r.weekdays.extend(range(wd, last + 1) if wd <= last else [*range(wd, 7), *range(last + 1)])
                r.recurrent = True  # a range of weekdays is a weekly habit
                i += 3
                continue
            r.weekdays.append(wd)
        elif tok in _ORDINALS and (tok not in ("second", "seconde") or _weekday(nxt) is not None):
            n = _ORDINALS[tok]
            if _weekday(nxt) is not None:
                r.nth = n
            elif nxt in ("jour", "day"):  # « le dernier jour », « le premier jour »
                r.day, i = (n, i + 1)
            elif (month := MONTHS.get(nxt)) and n == 1:  # « 1er septembre »
                r.day, r.month, i = 1, month, i + 1
            else:
                r.day = n
        elif (count := _number(tok)) is not None:
            unit = _UNIT_WORDS.get(nxt)
            if unit is not None:
                r.every, r.unit = count, unit
                i += 2
                continue
            if _weekday(nxt) is not None and r.every is None:  # « tous les 2 lundis »
                r.every, r.unit = count, "w"
            elif (month := MONTHS.get(nxt.rstrip("."))) is not None:  # « 14 juillet »
                r.day, r.month = count, month
                i += 2
                continue
            elif tok.isdigit() or re.fullmatch(r"\d+\D+", tok):
                r.day = count
            else:
                return None
        elif tok in _UNIT_WORDS:  # a unit after its ordinal or number was read
            if _UNIT_WORDS[tok] != "d" or r.day is None:
                return None
        else:
            return None
        i += 1
    return r


def _number(tok: str) -> int | None:
    if m := re.fullmatch(r"(\d{1,3})(?:er|ere|eme|e|st|nd|rd|th)?", tok):
        return int(m.group(1))
    return NUMBER_WORDS.get(tok) if tok not in ("a", "an", "un", "une") else 1


def _weekday(tok: str) -> int | None:
    if tok in WEEKDAYS:
        return WEEKDAYS[tok]
    if tok.endswith("s") and tok[:-1] in WEEKDAYS:  # « les lundis », « mondays »
        return WEEKDAYS[tok[:-1]]
    return None


def _decide(r: _Reading, at: time, start: date | None, today: date, tz: str, *, has_time: bool) -> Recurrence:
    every = r.every or 1
    unit = r.unit
    if unit == "q":
        unit, every = "mo", every * 3
    elif unit == "half":
        unit, every = "mo", every * 6
    anchor = start or today
    base = Recurrence("daily", at=at, tz=tz, start=start)
    if unit in ("h", "min", "s"):
        if r.weekdays or r.day is not None or r.nth is not None or has_time:
            raise ValueError("an interval of hours takes no day")
        size = {"h": 3600, "min": 60, "s": 1}[unit]
        return replace(base, kind="every", seconds=every * size, start=anchor)
    if r.month is not None:
        if unit not in (None, "y") or r.day is None:
            raise ValueError("a date repeats yearly")
        return replace(
            base, kind="yearly", month=r.month, day=r.day, every=every, start=_need(start, every, anchor)
        )
    if r.nth is not None:
        if len(r.weekdays) != 1 or unit not in (None, "mo"):
            raise ValueError("« premier lundi » needs one weekday")
        return replace(
            base,
            kind="monthly_weekday",
            nth=r.nth,
            weekdays=tuple(r.weekdays),
            every=every,
            start=_need(start, every, anchor),
        )
    if r.day is not None and (unit in (None, "mo") or r.month_context):
        if r.weekdays:
            raise ValueError("a day of the month and a weekday")
        return replace(base, kind="monthly", day=r.day, every=every, start=_need(start, every, anchor))
    if r.weekdays:
        if unit not in (None, "w", "d"):
            raise ValueError("weekdays repeat weekly")
        weeks = r.sur or (every if unit == "w" else 1)
        days = tuple(sorted(set(r.weekdays)))
        if len(days) == 7 and weeks == 1:
            return replace(base, kind="daily")
        return replace(base, kind="weekly", weekdays=days, every=weeks, start=_need(start, weeks, anchor))
    if r.month_context and unit is None:
        unit = "mo"
    if unit == "d":
        return replace(base, kind="daily", every=every, start=_need(start, every, anchor))
    if unit == "w":
        return replace(base, kind="weekly", weekdays=(anchor.weekday(),), every=r.sur or every, start=anchor)
    if unit == "mo":
        return replace(base, kind="monthly", day=anchor.day, every=every, start=anchor)
    if unit == "y":
        return replace(base, kind="yearly", month=anchor.month, day=anchor.day, every=every, start=anchor)
    raise ValueError("nothing repeats")


def _need(start: date | None, every: int, anchor: date) -> date | None:
    """The start is kept when typed, or when an interval counts from it."""
    return start if start is not None or every == 1 else anchor


# Words a frequency does not end on: in « chaque mois Le réseau vous a-t-il été utile ? »,
# « le » starts the question.
_SMALL_WORDS = frozenset(
    {"le", "la", "les", "l", "a", "au", "de", "du", "des", "d", "et", "the", "on", "at", "and"}
)
_WORD_SPAN = re.compile(r"\S+")


def split_recurrence(
    text: str, now: datetime, *, default_time: time = DEFAULT_TIME
) -> tuple[Recurrence, str]:
    """A frequency at the start of `text`, and the rest as typed: « chaque mois Le réseau
    vous a-t-il été utile ? » → (chaque mois, « Le réseau vous a-t-il été utile ? »). The
    longest run of leading words (at most `MAX_PHRASE_WORDS`) that reads as a frequency and
    does not end on a small word (« le », « à »…). Raises the first words' DateError if no
    run reads."""
    spans = [m.span() for m in _WORD_SPAN.finditer(text[: MAX_PHRASE_CHARS * 2])][:MAX_PHRASE_WORDS]
    first_error: DateError | None = None
    for n in range(len(spans), 0, -1):
        phrase = text[: spans[n - 1][1]]
        last = fold(text[spans[n - 1][0] : spans[n - 1][1]]).replace("'", " ").split()
        if len(phrase) > MAX_PHRASE_CHARS or (last and last[-1] in _SMALL_WORDS):
            continue
        try:
            return parse_recurrence(phrase, now, default_time=default_time), text[spans[n - 1][1] :].strip()
        except DateError as err:
            first_error = first_error or err  # the longest attempt's: it echoes what was typed
    raise first_error or DateError("date.errors.empty")
