"""Reading a feed's document (RSS or Atom, by feedparser) into entries, and which of the
veille's keywords an entry holds."""

from __future__ import annotations

import html
import re
import time as _time
from calendar import timegm
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from bot.text import fold
from commands.veille.fetch import FeedError

MAX_SUMMARY = 1000


@dataclass(frozen=True)
class Entry:
    guid: str
    title: str
    link: str | None
    summary: str
    published_at: datetime | None


_TAGS = re.compile(r"<[^>]+>")


def _text(value: Any) -> str:
    return re.sub(r"\s+", " ", html.unescape(_TAGS.sub(" ", str(value or "")))).strip()


def parse_entries(body: bytes) -> list[Entry]:
    """Entries of an RSS or Atom document; FeedError when it is not one."""
    import feedparser  # on first use: 1.3 MB resident from start otherwise, for a job

    parsed = feedparser.parse(body)
    if parsed.get("bozo") and not parsed.get("entries"):
        raise FeedError(f"not a feed ({type(parsed.get('bozo_exception')).__name__})")
    if not parsed.get("version") and not parsed.get("entries"):
        raise FeedError("not a feed")
    out: list[Entry] = []
    for e in parsed.entries:
        link = e.get("link") or None
        if link and not str(link).lower().startswith(("http://", "https://")):
            link = None
        ident = str(e.get("id") or link or e.get("title") or "")
        if not ident:
            continue
        stamp = e.get("published_parsed") or e.get("updated_parsed")
        published = (
            datetime.fromtimestamp(timegm(stamp), UTC) if isinstance(stamp, _time.struct_time) else None
        )
        out.append(
            Entry(
                guid=ident,
                title=_text(e.get("title")) or (link or ident),
                link=link,
                summary=_text(e.get("summary") or e.get("description"))[:MAX_SUMMARY],
                published_at=published,
            )
        )
    return out


def matching_keywords(entry: Entry, keywords: list[str]) -> list[str] | None:
    """The keywords an entry holds (word starts, accents and case ignored); None when
    it matches none. No keyword at all: every entry matches."""
    if not keywords:
        return []
    text = fold(f"{entry.title} {entry.summary}")
    found = [k for k in keywords if re.search(r"(?<!\w)" + re.escape(fold(k).strip()), text)]
    return found or None
