"""Scheduled announcements: `!annonce planifier <quand> | <texte>` — once (« demain 9h »)
or again and again (« chaque lundi 9h », cron) — in the room where it is typed or the
rooms it names; `!annonces` lists them, `!annonce annuler <n°>` stops one. Animators
only. The job in `jobs.py` posts each occurrence once."""

from __future__ import annotations

import re
from datetime import UTC, datetime, time
from typing import Any

from bot.arguments import Rest
from bot.context import Context, Reply
from bot.dates import parse_when
from bot.dates_format import format_when
from bot.errors import UserError
from bot.formatting import Rich, bullets, lines
from bot.registry import command, personal_data
from bot.roles import Role
from bot.text import fold
from commands.annonces.jobs import rule_of, wake_at
from commands.annonces.service import next_time
from schedules.recurrence import Recurrence, parse_recurrence
from storage.models.annonces import Announcement
from storage.unit import Repos

MAX_TEXT = 4000
EXCERPT = 60
_RECURRENT = re.compile(r"\b(chaque|tous|toutes|every|each|cron|hebdo|quotidien|mensuel)\b")
_ROOM = re.compile(r"^[!#][^\s:]+(?::\S+)?$")


def _strip_quotes(text: str) -> str:
    text = text.strip()
    for left, right in (('"', '"'), ("«", "»"), ("“", "”")):
        if text.startswith(left) and text.endswith(right) and len(text) > 1:
            return text[1:-1].strip()
    return text


def read_when(text: str, now: datetime) -> tuple[datetime | None, Recurrence | None]:
    """A moment to come, or a recurrence (French phrase or cron), from what was typed."""
    typed = _strip_quotes(text)
    if not typed:
        raise UserError("annonces.errors.no_when")
    if _RECURRENT.search(fold(typed)) or re.fullmatch(r"[\d*/,\- ]+", typed):
        return None, parse_recurrence(typed, now)
    when = parse_when(typed, now, default_time=time(9, 0), allow_range=False)
    return when.start.replace(microsecond=0), None


def resolve_rooms(ctx: Context, text: str) -> list[str]:
    """Room ids (« !abc:server ») and aliases (« #reseau:server ») the animator named,
    as the ids of the network's rooms the bot is in (never a room outside the network)."""
    rooms: list[str] = []
    joined = ctx.services.network.rooms()
    for token in text.replace(",", " ").split():
        if token.startswith("!"):
            room = token if token in joined else None
        else:
            room = next((r for r in joined if token in ctx.services.rooms.room_aliases(r)), None)
        if room is None:
            raise UserError("annonces.errors.unknown_room", room=token)
        if room not in rooms:
            rooms.append(room)
    return rooms


def _describe(ctx: Context, ann: Announcement, rule: Recurrence | None) -> str:
    if rule is not None:
        return rule.describe(ctx.tr)
    assert ann.at is not None
    return format_when(ann.at, None, ctx.tr)


@command(
    "annonce",
    aliases=["announce", "announcement"],
    role=Role.ANIMATOR,
    help="annonces.annonce.help",
    feature="annonces",
)
async def announcement(ctx: Context, texte: Rest = "") -> Reply:
    number = texte.strip().lstrip("#").removeprefix("n°").strip()
    if number.isdigit():
        ann = await ctx.repos.announcements.get(int(number))
        if ann is None:
            raise UserError("annonces.errors.unknown", id=int(number))
        return Reply(rich=lines([line(ctx, ann), Rich.text(ann.text)]))
    return await list_announcements(ctx)


@announcement.sub("planifier", aliases=["schedule", "programmer", "plan"], help="annonces.planifier.help")
async def schedule(ctx: Context, texte: Rest) -> Reply:
    parts = [p.strip() for p in texte.split("|")]
    if len(parts) < 2 or not parts[0] or not parts[-1]:
        raise UserError("annonces.errors.usage")
    rooms: list[str] = []
    if len(parts) >= 3 and all(_ROOM.match(t) for t in parts[1].replace(",", " ").split()) and parts[1]:
        rooms = resolve_rooms(ctx, parts[1])
        body = " | ".join(parts[2:])
    else:
        body = " | ".join(parts[1:])
    if not rooms:
        if ctx.is_direct:
            raise UserError("annonces.errors.no_room")
        rooms = [ctx.room_id]
    if len(body) > MAX_TEXT:
        raise UserError("annonces.errors.too_long", max=MAX_TEXT, n=len(body))
    now = ctx.now()
    at, rule = read_when(parts[0], now)
    stored = rule.to_json() if rule else None
    if stored is not None and len(stored) > 200:
        raise UserError("annonces.errors.too_complex")
    ann = await ctx.repos.announcements.add(
        Announcement(text=body, rooms=rooms, at=at, recurrence=stored, author_id=ctx.sender, created_at=now)
    )
    following = next_time(now, at=at, rule=rule, last=None, created=now)
    wake_at(ctx, following)
    where = ctx.t("annonces.here") if rooms == [ctx.room_id] else ctx.t("annonces.in_rooms", n=len(rooms))
    if rule is None:
        return Reply(
            "annonces.scheduled_once", id=ann.id, when=format_when(at or now, None, ctx.tr), where=where
        )
    return Reply(
        "annonces.scheduled_recurring",
        id=ann.id,
        rule=rule.describe(ctx.tr),
        next=format_when(following, None, ctx.tr) if following else "—",
        where=where,
    )


def line(ctx: Context, ann: Announcement) -> Rich:
    rule = rule_of(ann)
    following = next_time(ctx.now(), at=ann.at, rule=rule, last=ann.last_occurrence, created=ann.created_at)
    excerpt = " ".join(ann.text.split())
    if len(excerpt) > EXCERPT:
        excerpt = excerpt[: EXCERPT - 1] + "…"
    key = "annonces.line_recurring" if rule else "annonces.line_once"
    return ctx.rich(
        key,
        id=ann.id,
        when=_describe(ctx, ann, rule),
        next=format_when(following, None, ctx.tr) if following else "—",
        rooms=ctx.t("annonces.rooms", n=len(ann.rooms)),
        posted=ann.posted_count,
        text=excerpt,
    )


async def list_announcements(ctx: Context) -> Reply:
    active = await ctx.repos.announcements.active()
    if not active:
        return Reply("annonces.none")
    active.sort(key=lambda a: (a.at or a.created_at).astimezone(UTC))
    return Reply(
        rich=lines([ctx.rich("annonces.head", n=len(active)), bullets(line(ctx, a) for a in active)])
    )


@announcement.sub("annuler", aliases=["cancel", "supprimer", "arreter", "stop"], help="annonces.annuler.help")
async def cancel(ctx: Context, id: int) -> Reply:
    ann = await ctx.repos.announcements.get(id)
    if ann is None:
        raise UserError("annonces.errors.unknown", id=id)
    if ann.status != "active":
        raise UserError("annonces.errors.not_active", id=id)
    await ctx.repos.announcements.cancel(ann)
    return Reply("annonces.cancelled", id=id, posted=ann.posted_count)


@command(
    "annonces",
    aliases=["announcements"],
    role=Role.ANIMATOR,
    help="annonces.annonces.help",
    feature="annonces",
)
async def announcements(ctx: Context) -> Reply:
    return await list_announcements(ctx)


class AnnouncementsData:
    """The announcements an animator scheduled: shown to them; on erasure they stay the
    network's, without the name."""

    name = "annonces"

    async def export(self, repos: Repos, user_id: str) -> list[dict[str, Any]]:
        return await repos.announcements.export_member(user_id)

    async def erase(self, repos: Repos, user_id: str) -> int:
        return await repos.announcements.forget_author(user_id)


ANNOUNCEMENTS_DATA = personal_data(AnnouncementsData())
