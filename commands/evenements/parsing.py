"""What animators type to create or change an event, read into typed values.

`<quand>` goes through the project's French date grammar (`bot.dates.parse_when`:
moments, ranges, « dans 10 minutes », summer time); what is read here is the shape
around it: the fields separated by « | », a capacity (« 30 places »)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from bot.dates import parse_when as read_when
from bot.errors import UserError
from bot.formatting import web_link
from commands.evenements.service import WEBINAR

MAX_TITLE = 200
MAX_DESCRIPTION = 2000
MAX_PLACE = 300
MAX_URL = 2000
MAX_CAPACITY = 100_000

_CAPACITY = re.compile(r"^(?:(\d+)\s*places?|places?\s*:?\s*(\d+))$", re.IGNORECASE)


@dataclass(frozen=True)
class When:
    starts_at: datetime
    ends_at: datetime | None


def parse_when(text: str, now: datetime) -> When:
    """A start (and maybe an end) in the future, read by the project's date grammar; a
    UserError saying what was wrong otherwise (unreadable, past, end before start — with
    examples), or that the time is missing (an event starts at an hour)."""
    if not text.strip():
        raise UserError("evenements.errors.no_when")
    when = read_when(text, now)
    if not when.has_time:
        raise UserError("evenements.errors.no_time", value=" ".join(text.split()))
    start = when.start.replace(microsecond=0)
    return When(start, when.end.replace(microsecond=0) if when.end else None)


def check_url(raw: str) -> str:
    """A web link, or a UserError with an example."""
    url = web_link(raw, MAX_URL)
    if url is None:
        raise UserError("evenements.errors.bad_link", value=raw.strip()[:80])
    return url


def check_title(raw: str) -> str:
    title = " ".join(raw.split())
    if len(title) < 3:
        raise UserError("evenements.errors.no_title")
    if len(title) > MAX_TITLE:
        raise UserError("evenements.errors.title_long", max=MAX_TITLE, n=len(title))
    return title


def check_place(raw: str) -> str:
    place = " ".join(raw.split())
    if len(place) < 2:
        raise UserError("evenements.errors.no_place")
    if len(place) > MAX_PLACE:
        raise UserError("evenements.errors.place_long", max=MAX_PLACE)
    return place


def check_description(raw: str) -> str:
    text = raw.strip()
    if len(text) > MAX_DESCRIPTION:
        raise UserError("evenements.errors.description_long", max=MAX_DESCRIPTION, n=len(text))
    return text


def parse_capacity(raw: str) -> int | None:
    """« 30 », « 30 places », « places : 30 »; « aucune »/« illimité »/« 0 » for none."""
    text = raw.strip().lower()
    if text in ("", "0", "aucune", "aucun", "illimite", "illimité", "illimitees", "illimitées", "none"):
        return None
    m = _CAPACITY.fullmatch(text) or re.fullmatch(r"(\d+)", text)
    if not m:
        raise UserError("evenements.errors.bad_capacity", value=raw.strip())
    number = int(next(g for g in m.groups() if g))
    if not 1 <= number <= MAX_CAPACITY:
        raise UserError("evenements.errors.bad_capacity", value=raw.strip())
    return number


@dataclass(frozen=True)
class Draft:
    kind: str
    when: When
    title: str
    link: str | None
    place: str | None
    description: str
    capacity: int | None


def parse_new(kind: str, text: str, now: datetime) -> Draft:
    """`<quand> | <titre> | <lien de connexion ou lieu> [| description] [| 30 places]`."""
    parts = [p.strip() for p in text.split("|")]
    if len(parts) < 3 or not all(parts[:3]):
        raise UserError(f"evenements.errors.fields_{kind}")
    capacity: int | None = None
    rest = parts[3:]
    for i, part in enumerate(rest):
        if _CAPACITY.fullmatch(part):
            capacity = parse_capacity(part)
            rest.pop(i)
            break
    if len(rest) > 1:
        raise UserError(f"evenements.errors.fields_{kind}")
    when = parse_when(parts[0], now)
    title = check_title(parts[1])
    link = place = None
    if kind == WEBINAR:
        link = check_url(parts[2])
    else:
        place = check_place(parts[2])
    return Draft(kind, when, title, link, place, check_description(rest[0] if rest else ""), capacity)
