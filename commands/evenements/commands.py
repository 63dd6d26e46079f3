"""Webinars and meetings: `!webinaire` / `!rencontre` (ajouter, modifier, annuler,
captation, support) for animators, `!participer` and a ✅ reaction for members,
`!agenda` for everyone.

An event's announcement, its .ics file, the notices to those who signed up and the
sign-ups themselves commit in the handler's one unit of work; dedup keys make each
announcement and each « recording is online » notice unique."""

from __future__ import annotations

import re
from typing import Any

from bot.arguments import Rest
from bot.context import Context, Reply
from bot.errors import UserError
from bot.formatting import Rich, bullets, code, lines, link
from bot.hints import operator_hint
from bot.registry import Command, Reaction, Redaction, command, on_reaction, on_redaction, personal_data
from bot.roles import Role
from bot.text import fold
from commands.evenements.config import EventsConfig
from commands.evenements.ics import MIME, build_calendar, file_name
from commands.evenements.jobs import wake_for
from commands.evenements.parsing import (
    check_description,
    check_place,
    check_title,
    check_url,
    parse_capacity,
    parse_new,
    parse_when,
)
from commands.evenements.render import (
    agenda_line,
    agree,
    announcement,
    calendar_entry,
    echo,
    kind_label,
    seats,
    when_text,
)
from commands.evenements.service import (
    CANCELLED,
    MEETING,
    WAITING,
    WEBINAR,
    status_for_newcomer,
    to_promote,
)
from storage.models.evenements import Event
from storage.models.ressources import Resource
from storage.repositories.evenements import Counts
from storage.unit import Repos

AGENDA_LIMIT = 15
SIGN_UP_KEYS = {"✅", "✔", "☑", "✓"}
_NUMBER = re.compile(r"^(?:n[°o]\s*|#)?(\d{1,9})$", re.IGNORECASE)


def settings(ctx: Context) -> EventsConfig:
    return ctx.config.section(EventsConfig)


def split_number(text: str) -> tuple[int | None, str]:
    """« 7 reste », « n° 7 reste », « #7 reste » → (7, « reste »); no number → (None, text)."""
    words = text.strip().split(maxsplit=1)
    if not words:
        return None, ""
    first, rest = words[0], words[1] if len(words) > 1 else ""
    if fold(first) in ("n°", "no") and rest:
        first, _, rest = (rest + " ").partition(" ")
    m = _NUMBER.match(first)
    if m:
        return int(m.group(1)), rest.strip()
    return None, text.strip()


async def find_event(ctx: Context, number: int | None, *, recent: bool = False) -> Event:
    """Event n° `number`; without a number, the next event announced in this room (any
    room in a direct chat) — or with `recent`, the one that started last."""
    if number is not None:
        event = await ctx.repos.events.get(number)
        if event is None:
            raise UserError("evenements.errors.unknown", id=number)
        return event
    room = None if ctx.is_direct else ctx.room_id
    if recent:
        found = await ctx.repos.events.latest_started(ctx.now(), room_id=room)
        if found is not None:
            return found
    upcoming = await ctx.repos.events.upcoming(ctx.now(), room_id=room, limit=1)
    if not upcoming:
        raise UserError("evenements.errors.none_here")
    return upcoming[0]


def ensure_open(event: Event, ctx: Context) -> None:
    if event.status == CANCELLED:
        raise UserError("evenements.errors.cancelled", id=event.id, title=event.title)
    if event.starts_at <= ctx.now():
        raise UserError("evenements.errors.started", id=event.id, title=event.title)


# --- announcing -------------------------------------------------------------------------------------
async def send_calendar(ctx: Context, event: Event, room_id: str, *, dedup_key: str | None = None) -> None:
    cfg = settings(ctx)
    data = build_calendar(
        [calendar_entry(event, ctx.config.server_name, cfg.duration)],
        ctx.services.tz,
        name=ctx.config.bot.network_name,
        now=ctx.now(),
    )
    name = file_name(f"{event.kind}-{event.id}-{event.title}")
    await ctx.send_file(
        None, data, name, MIME, room_id=room_id, dedup_key=dedup_key, tag=f"evenement:{event.id}"
    )


async def announce(ctx: Context, event: Event) -> None:
    """The announcement and its .ics in each of the event's rooms, once per room."""
    tr = ctx.services.translator()  # rooms read the network's language
    rich = announcement(tr, event, ctx.prefix)
    for room in event.rooms:
        key = f"evenements:{event.id}:annonce:{room}"
        if await ctx.send(Reply(rich=rich), room_id=room, dedup_key=key, tag=f"evenement:{event.id}"):
            await send_calendar(ctx, event, room, dedup_key=key + ":ics")


async def notify_signed_up(ctx: Context, event: Event, rich: Rich, *, calendar: bool = False) -> None:
    """A notice in the event's rooms mentioning those signed up or waiting (never the
    whole room); the updated .ics after it when the calendar entry changed."""
    people = await ctx.repos.events.attendees(event.id) + await ctx.repos.events.attendees(event.id, WAITING)
    for room in event.rooms:
        await ctx.send(Reply(rich=rich, mentions=people), room_id=room)
        if calendar:
            await send_calendar(ctx, event, room)


async def tell_promoted(ctx: Context, event: Event, users: tuple[str, ...] | list[str]) -> None:
    for user in users:
        tr = await ctx.translator_for(user)
        await ctx.send(
            Reply(
                "evenements.promoted",
                kind=kind_label(tr, event),
                id=event.id,
                title=event.title,
                when=when_text(tr, event.starts_at, event.ends_at),
            ),
            to_user=user,
        )


# --- !webinaire / !rencontre ------------------------------------------------------------------------
def _declare(name: str, kind: str, aliases: list[str]) -> Command:
    help_base = f"evenements.{name}"

    @command(name, aliases=aliases, help=f"{help_base}.help", feature="evenements")
    async def show(ctx: Context, texte: Rest = "") -> Reply:
        number, _ = split_number(texte)
        if number is None:
            return await agenda_reply(ctx, kind=kind)
        return await event_details(ctx, await find_event(ctx, number))

    @show.sub("ajouter", aliases=["add", "nouveau", "creer", "new"], role=Role.ANIMATOR)
    async def add(ctx: Context, texte: Rest) -> Reply:
        return await create(ctx, kind, texte)

    @show.sub("modifier", aliases=["edit", "changer", "modify"], role=Role.ANIMATOR)
    async def edit_(ctx: Context, texte: Rest) -> Reply:
        return await edit(ctx, texte)

    @show.sub("annuler", aliases=["cancel", "supprimer"], role=Role.ANIMATOR)
    async def cancel_(ctx: Context, texte: Rest = "") -> Reply:
        return await cancel(ctx, texte)

    @show.sub("captation", aliases=["recording", "enregistrement", "video"], role=Role.ANIMATOR)
    async def recording_(ctx: Context, texte: Rest) -> Reply:
        return await attach(ctx, "captation", texte)

    @show.sub("support", aliases=["supports", "material", "slides", "diaporama"], role=Role.ANIMATOR)
    async def material_(ctx: Context, texte: Rest) -> Reply:
        return await attach(ctx, "support", texte)

    return show


WEBINAIRE = _declare("webinaire", WEBINAR, ["event", "webinar", "evenement"])
RENCONTRE = _declare("rencontre", MEETING, ["meeting"])


async def create(ctx: Context, kind: str, text: str) -> Reply:
    cfg = settings(ctx)
    draft = parse_new(kind, text, ctx.now())
    rooms = list(cfg.rooms)
    if not rooms:
        if ctx.is_direct:
            raise UserError(
                "evenements.errors.no_room", hint=operator_hint(ctx, "evenements.errors.no_room_operator")
            )
        rooms = [ctx.room_id]
    event = await ctx.repos.events.add(
        Event(
            kind=kind,
            title=draft.title,
            starts_at=draft.when.starts_at,
            ends_at=draft.when.ends_at,
            link=draft.link,
            place=draft.place,
            description=draft.description,
            capacity=draft.capacity,
            rooms=rooms,
            scheduled_at=ctx.now(),
            created_by=ctx.sender,
        )
    )
    await announce(ctx, event)
    wake_for(ctx, event)
    return Reply(rich=echo(ctx.tr, event, len(rooms), here=ctx.room_id in rooms))


async def event_details(ctx: Context, event: Event) -> Reply:
    counts = (await ctx.repos.events.counts([event.id])).get(event.id)
    parts = [announcement(ctx.tr, event, ctx.prefix)] if event.status != CANCELLED else []
    if event.status == CANCELLED:
        parts.append(
            ctx.rich(
                "evenements.cancelled_line", id=event.id, title=event.title, reason=event.cancel_reason or "—"
            )
        )
    if counts is not None:
        parts.append(seats(ctx.tr, event, counts))
    for resource in await ctx.repos.resources.for_event(event.id):
        parts.append(
            ctx.rich(f"evenements.material.{resource.kind}", link=link(resource.url or "", resource.title))
        )
    return Reply(rich=lines(parts), tag=f"evenement:{event.id}")


EDITABLE = {
    "quand": "when",
    "date": "when",
    "heure": "when",
    "when": "when",
    "titre": "title",
    "title": "title",
    "lien": "link",
    "link": "link",
    "url": "link",
    "lieu": "place",
    "place": "place",
    "adresse": "place",
    "description": "description",
    "places": "capacity",
    "capacite": "capacity",
    "capacity": "capacity",
}


async def edit(ctx: Context, text: str) -> Reply:
    number, rest = split_number(text)
    field_word, _, value = rest.partition(" ")
    field = EDITABLE.get(fold(field_word))
    if field is None:
        raise UserError("evenements.errors.bad_field", value=field_word or "…")
    event = await find_event(ctx, number)
    ensure_open(event, ctx)
    value = value.strip()
    if not value and field != "description" and field != "capacity":
        raise UserError("evenements.errors.empty_value", field=field_word)
    calendar = True
    shown: Any
    if field == "when":
        when = parse_when(value, ctx.now())
        event.starts_at, event.ends_at = when.starts_at, when.ends_at
        event.scheduled_at = ctx.now()
        shown = when_text(ctx.tr, when.starts_at, when.ends_at)
    elif field == "title":
        event.title = shown = check_title(value)
    elif field == "link":
        if event.kind != WEBINAR:
            raise UserError("evenements.errors.no_link_for_meeting")
        event.link = shown = check_url(value)
    elif field == "place":
        event.place = shown = check_place(value)
    elif field == "description":
        event.description = check_description(value)
        shown = value or ctx.t("evenements.empty")
        calendar = False
    else:
        event.capacity = parse_capacity(value)
        shown = event.capacity if event.capacity is not None else ctx.t("evenements.no_limit")
        calendar = False
    event.sequence += 1
    promoted = await ctx.repos.events.fill_seats(event, promote=to_promote) if field == "capacity" else ()
    tr = ctx.services.translator()
    notice = tr.rich(
        "evenements.changed_notice",
        kind=kind_label(tr, event, capital=True),
        e=agree(tr, event),
        id=event.id,
        title=event.title,
        field=field_word.lower(),
        value=shown,
    )
    await notify_signed_up(ctx, event, notice, calendar=calendar)
    await tell_promoted(ctx, event, promoted)
    if field == "when":
        wake_for(ctx, event)
    return Reply("evenements.changed", id=event.id, field=field_word.lower(), value=shown)


async def cancel(ctx: Context, text: str) -> Reply:
    number, reason = split_number(text)
    event = await find_event(ctx, number)
    if event.status == CANCELLED:
        raise UserError("evenements.errors.cancelled", id=event.id, title=event.title)
    reason = reason.strip()[:500]
    await ctx.repos.events.cancel(event, reason or None)
    tr = ctx.services.translator()
    key = "evenements.cancel_notice_reason" if reason else "evenements.cancel_notice"
    notice = tr.rich(
        key,
        kind=kind_label(tr, event, capital=True),
        e=agree(tr, event),
        id=event.id,
        title=event.title,
        when=when_text(tr, event.starts_at, event.ends_at),
        reason=reason,
    )
    await notify_signed_up(ctx, event, notice, calendar=True)
    n = len(await ctx.repos.events.attendees(event.id))
    return Reply("evenements.cancelled", id=event.id, title=event.title, n=n)


async def attach(ctx: Context, kind: str, text: str) -> Reply:
    """A recording or a material, kept in the library and announced once to those who
    signed up."""
    number, rest = split_number(text)
    url_text, _, title = rest.strip().partition(" ")
    if not url_text:
        raise UserError(f"evenements.errors.{kind}_usage")
    event = await find_event(ctx, number, recent=True)
    url = check_url(url_text)
    existing = await ctx.repos.resources.for_event(event.id, kind)
    if any(r.url == url for r in existing):
        raise UserError("evenements.errors.already_attached", id=event.id)
    tr = ctx.services.translator()
    label = title.strip() or tr.t(f"evenements.material_title.{kind}", title=event.title)
    if kind == "captation" and existing:  # one recording: a new link replaces it
        resource = existing[0]
        resource.url, resource.title = url, label
        await ctx.repos.resources.reindex(resource)
        return Reply("evenements.recording_replaced", id=event.id)
    resource = await ctx.repos.resources.add(
        Resource(
            kind=kind,
            title=check_title(label),
            url=url,
            description=event.description,
            event_id=event.id,
            author_id=ctx.sender,
            author_name=ctx.display_name(ctx.sender),
            room_id=None if ctx.is_direct else ctx.room_id,
            created_at=ctx.now(),
        )
    )
    people = await ctx.repos.events.attendees(event.id)
    notice = tr.rich(
        f"evenements.material_notice.{kind}",
        kind=kind_label(tr, event),
        id=event.id,
        title=event.title,
        link=link(url, label),
    )
    for room in event.rooms:
        await ctx.send(
            Reply(rich=notice, mentions=people),
            room_id=room,
            dedup_key=f"evenements:{event.id}:{kind}:{resource.id}:{room}",
        )
    return Reply(f"evenements.attached.{kind}", id=event.id, n=len(people), resource=resource.id)


# --- !participer --------------------------------------------------------------------------------------
@command(
    "participer",
    aliases=["rsvp", "inscription", "sinscrire", "attend"],
    help="evenements.participer.help",
    feature="evenements",
)
async def attend(ctx: Context, id: str = "") -> Reply:
    number, extra = split_number(id)
    if extra:
        raise UserError("evenements.errors.bad_number", value=extra)
    event = await find_event(ctx, number)
    ensure_open(event, ctx)
    result = await ctx.repos.events.sign_up(event.id, ctx.sender, status_for=status_for_newcomer)
    counts = (await ctx.repos.events.counts([event.id]))[event.id]
    params: dict[str, Any] = {
        "kind": kind_label(ctx.tr, event),
        "id": event.id,
        "title": event.title,
        "when": when_text(ctx.tr, event.starts_at, event.ends_at),
        "n": counts.going,
        "position": result.position,
    }
    if result.status == WAITING:
        return Reply("evenements.waiting" if result.new else "evenements.already_waiting", **params)
    return Reply("evenements.going" if result.new else "evenements.already_going", **params)


@attend.sub("annuler", aliases=["cancel", "plus", "retirer"], help="evenements.participer.annuler.help")
async def unattend(ctx: Context, id: str = "") -> Reply:
    number, extra = split_number(id)
    if extra:
        raise UserError("evenements.errors.bad_number", value=extra)
    if number is None:
        mine = [
            e
            for e in await ctx.repos.events.upcoming(
                ctx.now(), room_id=None if ctx.is_direct else ctx.room_id
            )
            if await ctx.repos.events.status_of(e.id, ctx.sender)
        ]
        event = mine[0] if mine else await find_event(ctx, None)
    else:
        event = await find_event(ctx, number)
    left = await ctx.repos.events.withdraw(event.id, ctx.sender, promote=to_promote)
    if left.was is None:
        return Reply("evenements.not_signed_up", id=event.id, title=event.title)
    await tell_promoted(ctx, event, left.promoted)
    return Reply("evenements.withdrawn", id=event.id, title=event.title)


# --- ✅ ---------------------------------------------------------------------------------------------
def is_sign_up_key(key: str) -> bool:
    base = "".join(ch for ch in key if ch not in "\ufe0f\ufe0e" and not 0x1F3FB <= ord(ch) <= 0x1F3FF)
    return base in SIGN_UP_KEYS


@on_reaction
async def sign_up_by_reaction(ctx: Context, reaction: Reaction) -> None:
    if not is_sign_up_key(reaction.key) or reaction.sender == ctx.services.bot_user_id:
        return
    tag = await ctx.repos.outbox.tag_for_event(reaction.target)
    if not tag or not tag.startswith("evenement:"):
        return
    event = await ctx.repos.events.get(int(tag.split(":", 1)[1]))
    if event is None or event.status == CANCELLED or event.starts_at <= ctx.now():
        return
    result = await ctx.repos.events.sign_up(
        event.id, reaction.sender, status_for=status_for_newcomer, reaction_event_id=reaction.event_id
    )
    if result.new and result.status == WAITING:  # a seat taken needs no message; a wait does
        tr = await ctx.translator_for(reaction.sender)
        await ctx.send(
            Reply(
                "evenements.waiting_dm",
                kind=kind_label(tr, event),
                id=event.id,
                title=event.title,
                position=result.position,
            ),
            to_user=reaction.sender,
        )


@on_redaction
async def withdraw_by_reaction(ctx: Context, redaction: Redaction) -> None:
    found = await ctx.repos.events.withdraw_reaction(redaction.redacts, promote=to_promote)
    if found is None or not found[1].promoted:
        return
    event = await ctx.repos.events.get(found[0])
    if event is not None:
        await tell_promoted(ctx, event, found[1].promoted)


# --- !agenda ---------------------------------------------------------------------------------------------
async def agenda_reply(ctx: Context, kind: str | None = None) -> Reply:
    shown = await ctx.repos.events.upcoming(ctx.now(), kind=kind, limit=AGENDA_LIMIT)
    if not shown:
        return Reply("evenements.agenda.empty")
    total = len(shown)
    if total == AGENDA_LIMIT:
        total = await ctx.repos.events.count_upcoming(ctx.now(), kind=kind)
    ids = [e.id for e in shown]
    counts = await ctx.repos.events.counts(ids)
    mine = await ctx.repos.events.statuses_of(ctx.sender, ids)
    parts: list[Rich] = [ctx.rich("evenements.agenda.head", n=total)]
    parts.append(bullets(agenda_line(ctx.tr, e, counts.get(e.id, Counts()), mine.get(e.id)) for e in shown))
    if total > len(shown):
        parts.append(ctx.rich("evenements.agenda.more", n=total - len(shown)))
    parts.append(ctx.rich("evenements.agenda.foot", command=code(f"{ctx.prefix}agenda ics")))
    return Reply(rich=lines(parts))


@command(
    "agenda",
    aliases=["events", "evenements", "calendrier"],
    help="evenements.agenda.help",
    feature="evenements",
)
async def agenda(ctx: Context) -> Reply:
    return await agenda_reply(ctx)


@agenda.sub("ics", aliases=["ical", "fichier", "calendar"], help="evenements.agenda.ics.help")
async def agenda_ics(ctx: Context) -> Reply | None:
    events = await ctx.repos.events.upcoming(ctx.now())
    if not events:
        return Reply("evenements.agenda.empty")
    cfg = settings(ctx)
    data = build_calendar(
        [calendar_entry(e, ctx.config.server_name, cfg.duration) for e in events],
        ctx.services.tz,
        name=ctx.config.bot.network_name,
        now=ctx.now(),
    )
    caption = Reply("evenements.agenda.ics_caption", n=len(events))
    await ctx.send_file(None, data, file_name(f"agenda-{ctx.config.bot.network_name}"), MIME, caption=caption)
    return None


# --- personal data ------------------------------------------------------------------------------------
class EventsData:
    """Sign-ups (their seats go to the waiting list) and the events an animator created
    (they stay, without the name)."""

    name = "evenements"

    async def export(self, repos: Repos, user_id: str) -> dict[str, Any]:
        return await repos.events.export_member(user_id)

    async def erase(self, repos: Repos, user_id: str) -> int:
        return await repos.events.erase_member(user_id, promote=to_promote)


EVENTS_DATA = personal_data(EventsData())
