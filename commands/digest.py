"""The weekly digest of weak signals: what it holds (ranking, grouping), how it reads (HTML
with a clean plain-text fallback, in French or English), its archive, and the commands
`!digest`, `!digest apercu`, `!digest publier`, `!digest archives`.

When it is due is computed in `commands/digest_slots.py` (pure functions of « now »); both the
schedule and `!digest publier` post through `publish`, which makes each digest exactly
once per room and per week: the archive row, the signals marked « publié » and the
messages (outbox rows with a `dedup_key`) commit together."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import TYPE_CHECKING, Literal
from zoneinfo import ZoneInfo

from apscheduler.triggers.date import DateTrigger
from pydantic import Field, field_validator
from pydantic_core import PydanticCustomError

from bot.arguments import Rest
from bot.config import Section, config_section, room_ids
from bot.context import Context, Reply
from bot.dates import WEEKDAYS, iso_week
from bot.digest_sections import sections_of
from bot.errors import UserError
from bot.formatting import Rich, bold, code, italic, lines, link, site_of, user_link
from bot.hints import operator_hint
from bot.i18n import Translator
from bot.registry import command
from bot.roles import Role
from bot.text import fold
from commands import signal_parsing as sp
from commands.digest_slots import next_slot
from commands.signals import SignalsConfig
from storage.models.signals import Digest, Signal
from storage.repositories.signals import PROPOSED, RETAINED

if TYPE_CHECKING:
    from bot.scheduler import JobContext, Scheduler

WHY_LINE = 160  # characters of « pourquoi c'est important » in a digest line
FIRST_PERIOD = timedelta(days=7)  # the very first digest covers the last 7 days


# « 09:00 », « 9:00 », « 9h30 », « 9h »: a time of day, 00:00 to 23:59.
_HOUR = re.compile(r"([01]?\d|2[0-3])(?::([0-5]\d)|h([0-5]\d)?)")


@config_section("digest")
class DigestConfig(Section):
    # Rooms where the digest is posted (room ids). Empty: no digest is posted.
    rooms: list[str] = Field(default_factory=list)
    # Day and time of the weekly post, in the bot's time zone.
    day: str = "lundi"
    hour: str = "09:00"
    # At most this many signals; the others are counted (« et 3 autres »).
    max_items: int = Field(default=8, ge=1, le=30)
    # If the bot was down at the scheduled time, it still posts when back within this
    # many hours. Not set: until the end of the scheduled day.
    grace_hours: int | None = Field(default=None, ge=0, le=144)
    # A week without signal: a short call for contributions ("appel") or nothing ("rien").
    empty_week: Literal["appel", "rien"] = "appel"
    # Only signals an animator retained (!signal retenir) enter the digest.
    require_retained: bool = False
    # Group the signals by STEEPL category ("categorie") or by nature ("nature").
    group_by: Literal["categorie", "nature"] = "categorie"
    # Also post each signal as a reply in the digest's thread, so members support one by
    # reacting 👍 to its line (the room's timeline still shows one message).
    support_thread: bool = True

    @field_validator("rooms")
    @classmethod
    def _rooms(cls, v: list[str]) -> list[str]:
        return room_ids(v)

    @field_validator("day")
    @classmethod
    def _day(cls, v: str) -> str:
        if fold(v) not in WEEKDAYS:
            raise PydanticCustomError(
                "literal_error", "unknown day {value}", {"value": v, "expected": "lundi … dimanche"}
            )
        return v

    @field_validator("hour")
    @classmethod
    def _hour(cls, v: str) -> str:
        if not _HOUR.fullmatch(v.strip()):
            raise PydanticCustomError("time_of_day", "bad time {value}", {"value": v})
        return v

    @property
    def weekday(self) -> int:
        return WEEKDAYS[fold(self.day)]

    @property
    def at(self) -> time:
        found = _HOUR.fullmatch(self.hour.strip())
        assert found is not None  # validated
        return time(int(found.group(1)), int(found.group(2) or found.group(3) or 0))


def digest_settings(ctx: Context) -> DigestConfig:
    return ctx.config.section(DigestConfig)


# --- building -------------------------------------------------------------------------------
@dataclass
class DigestItem:
    signal: Signal
    support: int


@dataclass
class DigestPlan:
    """What a digest holds: its period, the signals shown (ranked), how many in all."""

    period_start: datetime
    period_end: datetime
    items: list[DigestItem]
    total: int

    @property
    def others(self) -> int:
        return max(0, self.total - len(self.items))


def statuses(cfg: DigestConfig) -> tuple[str, ...]:
    return (RETAINED,) if cfg.require_retained else (PROPOSED, RETAINED)


async def plan(ctx: Context, end: datetime) -> DigestPlan:
    """The digest as it would be at `end`: signals since the previous digest's period
    (or the last 7 days), discarded ones and already published ones left out."""
    cfg = digest_settings(ctx)
    latest = await ctx.repos.digests.latest()
    start = latest.period_end if latest is not None else end - FIRST_PERIOD
    signals, total = await ctx.repos.signals.for_digest(
        start, end, statuses=statuses(cfg), limit=cfg.max_items
    )
    return DigestPlan(start, end, [DigestItem(s, s.support_count) for s in signals], total)


async def archive(ctx: Context, week: str, digest_plan: DigestPlan, by: str | None) -> Digest:
    digest = await ctx.repos.digests.add(
        Digest(
            week=week,
            period_start=digest_plan.period_start,
            period_end=digest_plan.period_end,
            items=[{"id": i.signal.id, "support": i.support} for i in digest_plan.items],
            total=digest_plan.total,
            rooms=[],
            published_by=by,
            created_at=ctx.now(),
        )
    )
    await ctx.repos.signals.mark_published([i.signal.id for i in digest_plan.items], digest.id)
    return digest


async def plan_of(ctx: Context, digest: Digest) -> DigestPlan:
    """An archived digest, re-read (signals withdrawn since are left out; erased authors
    are no longer named)."""
    by_id = await ctx.repos.signals.many([int(i["id"]) for i in digest.items])
    items = [
        DigestItem(by_id[int(i["id"])], int(i["support"])) for i in digest.items if int(i["id"]) in by_id
    ]
    return DigestPlan(digest.period_start, digest.period_end, items, digest.total)


@dataclass
class Published:
    digest: Digest
    rooms: list[str]  # rooms where it was queued just now
    created: bool  # the digest was built just now


async def publish(ctx: Context, week: str, *, rooms: list[str], by: str | None = None) -> Published:
    """Post week `week`'s digest in `rooms` (building and archiving it first if needed).
    Rooms that already have it are skipped: the outbox dedup key is per week and room."""
    cfg = digest_settings(ctx)
    digest = await ctx.repos.digests.for_week(week)
    created = digest is None
    if digest is None:
        digest = await archive(ctx, week, await plan(ctx, ctx.now()), by)
    digest_plan = await plan_of(ctx, digest)
    posted: list[str] = []
    sections = await sections_of(ctx, week)  # what other features add (featured resources…)
    if digest_plan.items or sections or cfg.empty_week == "appel":
        tr = ctx.services.translator()  # rooms read the network's language
        rich = render(tr, ctx, digest_plan, week=week, sections=sections)
        for room in rooms:
            if await ctx.send(
                Reply(rich=rich), room_id=room, dedup_key=f"digest:{week}:{room}", tag=f"digest:{digest.id}"
            ):
                posted.append(room)
    if posted:
        digest.rooms = sorted(set(digest.rooms or []) | set(posted))
        if cfg.support_thread and digest_plan.items and ctx.services.scheduler is not None:
            schedule_threads(ctx.services.scheduler)
    return Published(digest, posted, created)


async def post_thread(ctx: Context, digest: Digest, room_id: str, root_event_id: str) -> int:
    """Each signal of a posted digest as a reply in its thread, tagged with the signal so
    a 👍 on it is a support. Idempotent: one dedup key per week, room and signal."""
    digest_plan = await plan_of(ctx, digest)
    tr = ctx.services.translator()
    cfg = digest_settings(ctx)
    order = (
        list(ctx.config.section(SignalsConfig).categories)
        if cfg.group_by == "categorie"
        else list(sp.NATURES)
    )
    relation = {
        "m.relates_to": {
            "rel_type": "m.thread",
            "event_id": root_event_id,
            "is_falling_back": True,
            "m.in_reply_to": {"event_id": root_event_id},
        }
    }
    queued = 0
    for _, items in grouped(digest_plan.items, cfg.group_by, order):
        for item in items:
            line = render_item(tr, item)
            rich = Rich(line.plain.removeprefix("• "), line.html.removeprefix("<li>").removesuffix("</li>"))
            if await ctx.send(
                Reply(rich=rich),
                room_id=room_id,
                dedup_key=f"digest:{digest.week}:{room_id}:signal:{item.signal.id}",
                tag=f"signal:{item.signal.id}",
                extra=relation,
            ):
                queued += 1
    return queued


# --- the threads ----------------------------------------------------------------------------------
THREAD_JOB_ID = "digest.thread"
THREAD_WINDOW = timedelta(days=2)  # digests whose threads may still need completing
THREAD_RETRY = timedelta(seconds=3)


async def complete_threads(jobs: JobContext) -> bool:
    """Post the thread of each digest message already delivered (its event id is known
    only then). Returns True when some digest message is still waiting to be sent."""
    cfg = jobs.services.config.section(DigestConfig)
    if not cfg.support_thread:
        return False
    waiting = False
    async with jobs.unit() as ctx:
        for digest in await ctx.repos.digests.archives(limit=3):
            if not digest.items or not digest.rooms or digest.created_at < ctx.now() - THREAD_WINDOW:
                continue
            sent = {
                e.room_id: e.event_id for e in await ctx.repos.outbox.events_for_tag(f"digest:{digest.id}")
            }
            for room in digest.rooms:
                if room in sent:
                    await post_thread(ctx, digest, room, sent[room])
                else:
                    waiting = True
        await ctx.repos.commit()
    return waiting


async def run_threads(jobs: JobContext, attempt: int = 0) -> None:
    if await complete_threads(jobs) and attempt < 40 and jobs.services.scheduler is not None:
        schedule_threads(jobs.services.scheduler, attempt + 1)


def schedule_threads(scheduler: Scheduler, attempt: int = 0) -> None:
    """Complete the digest threads shortly, once the digest messages are delivered."""
    when = datetime.now(ZoneInfo("UTC")) + THREAD_RETRY
    scheduler.add(THREAD_JOB_ID, run_threads, DateTrigger(when), kwargs={"attempt": attempt})


# --- rendering --------------------------------------------------------------------------------
def _t(tr: Translator, key: str, **params: object) -> Rich:
    return tr.rich(key, **params)


def one_line(text: str, limit: int = WHY_LINE) -> str:
    """The first sentence or line of a text, cut at a word within `limit` characters."""
    first = text.strip().split("\n", 1)[0].strip()
    m = re.match(r"(.+?[.!?…])(\s|$)", first)
    if m and len(m.group(1)) >= 20:
        first = m.group(1)
    if len(first) <= limit:
        return first
    cut = first[: limit - 1].rsplit(" ", 1)[0].rstrip(",;:")
    return cut + "…"


def render_item(tr: Translator, item: DigestItem) -> Rich:
    s = item.signal
    head = bold(link(s.url, s.title)) + site_of(s.url) if s.url else bold(Rich.text(s.title))
    head = head + (f" — 👍 {item.support}" if item.support else "")
    rows: list[Rich] = [head]
    reason = one_line(s.why or s.observation or "")
    if reason:
        rows.append(italic(reason))
    who = (
        user_link(s.author_id, s.author_name or s.author_id)
        if s.author_id
        else Rich.text(tr.t("signaux.anonymous"))
    )
    meta: Rich = _t(tr, "digest.shared_by", who=who)
    if s.territory:
        meta = meta + " · " + Rich.text(s.territory)
    meta = meta + " · " + code(f"#{s.id}")
    rows.append(meta)
    plain = "• " + "\n  ".join(r.plain for r in rows)
    html = "<li>" + "<br>".join(r.html for r in rows) + "</li>"
    return Rich(plain, html)


def group_key(group_by: str, signal: Signal) -> str:
    return signal.nature if group_by == "nature" else signal.category


def grouped(items: list[DigestItem], group_by: str, order: list[str]) -> list[tuple[str, list[DigestItem]]]:
    """The most supported first, as the digest says: groups by their best-supported
    signal, then in the frame's order (STEEPL or natures); inside a group, the ranking."""
    groups: dict[str, list[DigestItem]] = {}
    for item in items:
        groups.setdefault(group_key(group_by, item.signal), []).append(item)
    known = [g for g in order if g in groups]
    extra = sorted(g for g in groups if g not in order)
    framed = known + extra
    framed.sort(key=lambda g: -max(i.support for i in groups[g]))  # stable: the frame breaks ties
    return [(g, groups[g]) for g in framed]


def render(
    tr: Translator,
    ctx: Context,
    digest_plan: DigestPlan,
    *,
    week: str,
    preview: bool = False,
    sections: Sequence[Rich] = (),
) -> Rich:
    cfg = digest_settings(ctx)
    theme = ctx.config.section(SignalsConfig).theme
    start = digest_plan.period_start.astimezone(tr.tz).date()
    end = digest_plan.period_end.astimezone(tr.tz).date()
    number = int(week.rsplit("W", 1)[-1])
    if not digest_plan.items:
        empty = _t(tr, "digest.empty", week=number, theme=theme) + Rich("\n", "<br>") + _t(tr, "digest.call")
        return lines([empty, *sections]) if sections else empty
    title = _t(tr, "digest.title", week=number, theme=theme)
    sub = _t(tr, "digest.period", start=start, end=end, n=digest_plan.total)
    plain = [title.plain, sub.plain]
    html = [f"<h3>{title.html}</h3>", f"<p>{sub.html}</p>"]
    order = (
        list(ctx.config.section(SignalsConfig).categories)
        if cfg.group_by == "categorie"
        else list(sp.NATURES)
    )
    kind = "natures" if cfg.group_by == "nature" else "categories"
    for group, items in grouped(digest_plan.items, cfg.group_by, order):
        name_key = f"signaux.{kind}.{group}"
        name = tr.t(name_key) if tr.has(name_key) else group
        if cfg.group_by == "nature":
            name = name[:1].upper() + name[1:]
        rendered = [render_item(tr, i) for i in items]
        plain.append("\n" + name.upper())
        plain.extend(r.plain for r in rendered)
        html.append(f"<p><b>{Rich.text(name).html}</b></p><ul>{''.join(r.html for r in rendered)}</ul>")
    if digest_plan.others:
        more = _t(tr, "digest.others", n=digest_plan.others)
        plain.append("\n" + more.plain)
        html.append(f"<p>{more.html}</p>")
    for section in sections:
        plain.append("\n" + section.plain)
        html.append(f"<p>{section.html}</p>")
    foot = _t(tr, "digest.footer")
    plain.append("\n" + foot.plain)
    html.append(f"<p><i>{foot.html}</i></p>")
    return Rich("\n".join(plain), "".join(html))


# --- commands ----------------------------------------------------------------------------------
@command("digest", help="digest.digest.help")
async def status(ctx: Context) -> Reply:
    cfg = digest_settings(ctx)
    upcoming = await plan(ctx, ctx.now())
    if not cfg.rooms:
        hint = operator_hint(ctx, "digest.operator.rooms")
        return Reply("digest.status_no_rooms", n=upcoming.total, hint=hint)
    when = next_slot(ctx.now(), cfg.weekday, cfg.at, ctx.services.tz)
    where = ctx.t("digest.in_rooms", n=len(cfg.rooms))
    return Reply("digest.status", when=when, where=where, n=upcoming.total)


@status.sub("apercu", aliases=["preview"], help="digest.apercu.help")
async def preview(ctx: Context) -> Reply:
    cfg = digest_settings(ctx)
    now = ctx.now()
    upcoming = await plan(ctx, now)
    when = next_slot(now, cfg.weekday, cfg.at, ctx.services.tz)
    head = ctx.rich("digest.preview_head", when=when)
    if not upcoming.items:
        key = "digest.preview_empty_call" if cfg.empty_week == "appel" else "digest.preview_empty_nothing"
        return Reply(rich=head + Rich("\n", "<br>") + ctx.rich(key))
    # « As it would be published now »: this week's number, with the period up to now.
    week = iso_week(now.date())
    body = render(ctx.tr, ctx, upcoming, week=week, sections=await sections_of(ctx, week))
    return Reply(rich=head + Rich("\n\n", "<br>") + body)


@status.sub("publier", aliases=["publish"], role=Role.ANIMATOR, help="digest.publier.help")
async def publish_now(ctx: Context) -> Reply:
    cfg = digest_settings(ctx)
    if not cfg.rooms:
        raise UserError("digest.errors.no_rooms", hint=operator_hint(ctx, "digest.operator.rooms"))
    week = iso_week(ctx.now().date())
    existing = await ctx.repos.digests.for_week(week)
    if existing is not None and set(cfg.rooms) <= set(existing.rooms or []):
        raise UserError("digest.errors.already", when=existing.created_at)
    result = await publish(ctx, week, rooms=cfg.rooms, by=ctx.sender)
    if not result.rooms:
        if not (await plan_of(ctx, result.digest)).items and cfg.empty_week == "rien":
            return Reply("digest.published_nothing", hint=operator_hint(ctx, "digest.operator.empty_week"))
        raise UserError("digest.errors.already", when=result.digest.created_at)
    where = ctx.t("digest.in_rooms", n=len(result.rooms))
    return Reply("digest.published", n=len(result.digest.items), where=where)


@status.sub("archives", aliases=["archive", "history", "historique"], help="digest.archives.help")
async def archives(ctx: Context, semaine: Rest = "") -> Reply:
    if semaine.strip():
        week = parse_week(semaine, ctx.now())
        digest = await ctx.repos.digests.for_week(week)
        if digest is None:
            raise UserError("digest.errors.unknown_week", week=semaine.strip())
        digest_plan = await plan_of(ctx, digest)
        sections = await sections_of(ctx, digest.week)
        return Reply(rich=render(ctx.tr, ctx, digest_plan, week=digest.week, sections=sections))
    rows = await ctx.repos.digests.archives(limit=12)
    if not rows:
        return Reply("digest.archives_none")
    from bot.formatting import bullets, lines

    entries = [
        ctx.rich(
            "digest.archive_line",
            week=d.week,
            date=d.created_at,
            n=len(d.items),
            total=d.total,
            rooms=len(d.rooms or []),
        )
        for d in rows
    ]
    return Reply(
        rich=lines([ctx.rich("digest.archives_head"), bullets(entries), ctx.rich("digest.archives_more")])
    )


def parse_week(raw: str, now: datetime) -> str:
    """« 49 », « S49 », « W49 », « 2026-W49 » → « 2026-W49 » (a bare number: the latest
    such week not in the future)."""
    t = fold(raw).strip().replace(" ", "")
    m = re.fullmatch(r"(?:(\d{4})-?)?[sw]?(\d{1,2})", t)
    if not m or not 1 <= int(m.group(2)) <= 53:
        raise UserError("digest.errors.bad_week", value=raw.strip())
    week = int(m.group(2))
    year = int(m.group(1)) if m.group(1) else now.isocalendar()[0]
    if not m.group(1) and week > now.isocalendar()[1]:
        year -= 1
    return f"{year}-W{week:02d}"
