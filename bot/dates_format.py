"""Writing dates the way each locale does, from the catalog (`date.*`).

« mardi 16 décembre à 14 h » in messages (the year only when it is not the current one),
and in full — « mardi 16 décembre 2026, 14 h – 15 h 30 » — where the bot says back what it
understood (`format_when`). Delays: « 7 jours », « 1 heure 30 minutes » (`format_delay`).
Pure functions of their arguments and the translator (its zone, its locale)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.i18n import Translator


def format_date(d: date, tr: Translator, style: str = "date") -> str:
    """« mardi 16 décembre » (the year is added when it is not the current one; always
    with the style "full")."""
    if style == "short":
        return d.strftime("%d/%m/%Y")
    if style == "iso":
        return d.isoformat()
    weekday = tr.list("date.weekdays")[d.weekday()]
    month = tr.list("date.months")[d.month - 1]
    day = tr.t("date.first_day") if d.day == 1 else str(d.day)
    today = datetime.now(tr.tz).date()
    key = "date.date" if d.year == today.year and style != "full" else "date.date_year"
    if style == "day_month":
        key = "date.day_month"
    return tr.template(key, {}).format(weekday=weekday, day=day, month=month, year=d.year)


def format_time(t: time, tr: Translator) -> str:
    """« 14 h », « 9 h 30 », « 9 h 30 min 15 s » in French; « 14:00 », « 9:30:15 » in
    English."""
    key = "date.time_seconds" if t.second else "date.time_minutes" if t.minute else "date.time_hour"
    return tr.template(key, {}).format(hour=t.hour, minute=f"{t.minute:02d}", second=f"{t.second:02d}")


def format_datetime(dt: datetime, tr: Translator, style: str = "datetime") -> str:
    local = dt.astimezone(tr.tz) if dt.tzinfo else dt.replace(tzinfo=tr.tz)
    if style in ("date", "short", "iso", "day_month", "full_date"):
        return format_date(local.date(), tr, "full" if style == "full_date" else style)
    if style == "time":
        return format_time(local.time(), tr)
    if style == "full":
        return format_when(dt, None, tr)
    return tr.template("date.datetime", {}).format(
        date=format_date(local.date(), tr), time=format_time(local.time(), tr)
    )


def format_when(start: datetime, end: datetime | None, tr: Translator, *, has_time: bool = True) -> str:
    """In full, year included, as the bot says back what it understood:
    « mardi 16 décembre 2026, 14 h », « mardi 16 décembre 2026, 14 h – 15 h 30 »,
    « mardi 16 décembre 2026, 22 h – mercredi 17 décembre 2026, 1 h »; whole days
    (`has_time` False; `end` exclusive, as `bot.dates.When` gives it): « mardi 16 décembre
    2026 », « du mardi 16 au jeudi 18 décembre 2026 »."""
    first = start.astimezone(tr.tz)
    if not has_time:
        day = format_date(first.date(), tr, "full")
        if end is None:
            return day
        last = (end.astimezone(tr.tz) - timedelta(days=1)).date()
        if last <= first.date():
            return day
        if (last.year, last.month) == (first.year, first.month):  # « du mardi 16 au jeudi 18 décembre 2026 »
            weekday = tr.list("date.weekdays")[first.weekday()]
            number = tr.t("date.first_day") if first.day == 1 else str(first.day)
            day = tr.template("date.weekday_day", {}).format(weekday=weekday, day=number)
        return tr.template("date.days_range", {}).format(start=day, end=format_date(last, tr, "full"))
    text = tr.template("date.full", {}).format(
        date=format_date(first.date(), tr, "full"), time=format_time(first.time(), tr)
    )
    if end is None:
        return text
    second = end.astimezone(tr.tz)
    if second.date() == first.date():
        tail = format_time(second.time(), tr)
    else:
        tail = tr.template("date.full", {}).format(
            date=format_date(second.date(), tr, "full"), time=format_time(second.time(), tr)
        )
    return tr.template("date.range", {}).format(start=text, end=tail)


def format_delay(delta: timedelta, tr: Translator) -> str:
    """« 7 jours », « 1 heure 30 minutes », « 30 secondes »; « 2 semaines » for whole
    weeks. The inverse of `bot.dates.parse_delay`, in words."""
    seconds = int(delta.total_seconds())
    if seconds <= 0:
        return tr.t("date.units.seconds", n=0)
    days, rest = divmod(seconds, 86400)
    parts: list[str] = []
    if days and days % 7 == 0 and not rest:
        return tr.t("date.units.weeks", n=days // 7)
    if days:
        parts.append(tr.t("date.units.days", n=days))
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    for n, key in ((hours, "hours"), (minutes, "minutes"), (secs, "seconds")):
        if n:
            parts.append(tr.t(f"date.units.{key}", n=n))
    return " ".join(parts)
