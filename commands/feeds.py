"""The veille: curated RSS/Atom feeds whose matching items wait in a queue for the
animators (`!veille`), who turn one into a signal in one command or drop it. Polling lives
in `schedules/feeds.py`."""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic_core import PydanticCustomError

from bot.arguments import ArgType
from bot.config import Section, config_section
from bot.context import Context, Reply
from bot.errors import BadArgument, UserError
from bot.formatting import Rich, bullets, code, join, lines, link
from bot.hints import operator_hint
from bot.registry import command
from bot.roles import Role
from commands import signal_parsing as sp
from commands import signals as sg
from storage.repositories.feeds import IGNORED, QUEUED, RETAINED
from storage.repositories.signals import RETAINED as SIGNAL_RETAINED

QUEUE_PAGE = 10


class ItemNumber(int, ArgType):
    """A queue number: « 12 » or « n°12 »."""

    label = "id"

    @classmethod
    def parse(cls, raw: str, ctx: Context) -> ItemNumber:
        try:
            return cls(sp.signal_id(raw))
        except UserError:
            raise BadArgument("veille.errors.bad_number", value=raw.strip()[:40]) from None


class ItemNumbers(str, ArgType):
    """One or several queue numbers: « 4 5 7 » or « 4, 5, 7 »."""

    greedy = True
    label = "veille_numeros"

    @classmethod
    def parse(cls, raw: str, ctx: Context) -> ItemNumbers:
        return cls(raw)


class FeedSource(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1, max_length=100)
    url: str
    # Keywords for this feed; not set: the section's. An empty list keeps every item.
    keywords: list[str] | None = None
    interval_minutes: int | None = Field(default=None, ge=15, le=10080)

    @field_validator("url")
    @classmethod
    def _url(cls, v: str) -> str:
        if not re.match(r"^https?://[^\s/]+", v):
            raise PydanticCustomError("url", "not an http(s) URL: {value}", {"value": v})
        return v


@config_section("veille")
class VeilleConfig(Section):
    # An item enters the queue when its title or summary holds one of these words
    # (accents and case ignored; « inondation » also finds « inondations »).
    keywords: list[str] = Field(
        default_factory=lambda: ["climat", "adaptation", "sécheresse", "canicule", "inondation"]
    )
    # Polite polling: every feed at most this often (15 minutes at least).
    interval_minutes: int = Field(default=60, ge=15, le=10080)
    # A feed that does not answer within this time is retried later.
    timeout_seconds: int = Field(default=20, ge=1, le=120)
    # A larger answer is refused (a feed is a few hundred kilobytes).
    max_bytes: int = Field(default=2_000_000, ge=10_000, le=50_000_000)
    # Items older than this are ignored (the first poll of a feed brings its history).
    max_age_days: int = Field(default=30, ge=1, le=365)
    # At most this many new items enter the queue per poll of one feed.
    max_new_per_poll: int = Field(default=20, ge=1, le=200)
    # Unreviewed items leave the queue after this many days.
    queue_days: int = Field(default=30, ge=1, le=365)
    sources: list[FeedSource] = Field(default_factory=list)


def veille_settings(ctx: Context) -> VeilleConfig:
    return ctx.config.section(VeilleConfig)


def item_number(ctx: Context, item_id: int) -> str:
    return ctx.t("veille.number", n=item_id)


@command("veille", aliases=["feeds", "watch"], role=Role.ANIMATOR, help="veille.veille.help")
async def queue(ctx: Context) -> Reply:
    items, total = await ctx.repos.feeds.queue(limit=QUEUE_PAGE)
    if not items:
        if not veille_settings(ctx).sources:
            return Reply("veille.no_sources", hint=operator_hint(ctx, "veille.no_sources_operator"))
        return Reply("veille.empty")
    rows = []
    for item in items:
        bits: list[object] = [item.feed_name]
        if item.published_at:
            bits.append(ctx.tr.value(item.published_at.astimezone(ctx.services.tz).date(), "day_month"))
        if item.keywords:
            bits.append(", ".join(item.keywords))
        title = link(item.link, item.title) if item.link else Rich.text(item.title)
        rows.append(code(item_number(ctx, item.id)) + " " + title + " — " + join(bits, " · "))
    parts = [ctx.rich("veille.head", n=total, shown=len(items)), bullets(rows)]
    example = items[0].id
    parts.append(
        ctx.rich(
            "veille.how",
            keep=code(f"{ctx.prefix}veille retenir {example}"),
            drop=code(f"{ctx.prefix}veille ignorer {example}"),
        )
    )
    return Reply(rich=lines(parts))


async def _queued_item(ctx: Context, raw: str):  # type: ignore[no-untyped-def]
    try:
        number = sp.signal_id(raw)
    except UserError:
        raise UserError("veille.errors.bad_number", value=raw.strip()[:40]) from None
    item = await ctx.repos.feeds.get(number)
    if item is None:
        raise UserError("veille.errors.unknown", n=number)
    if item.status != QUEUED:
        key = "veille.errors.already_retained" if item.status == RETAINED else "veille.errors.already_ignored"
        raise UserError(key, n=number, id=item.signal_id or 0)
    return item


@queue.sub("retenir", aliases=["keep", "retain"], help="veille.retenir.help")
async def keep(ctx: Context, id: ItemNumber) -> Reply:
    item = await _queued_item(ctx, str(id))
    summary = re.sub(r"\s+", " ", item.summary or "").strip()
    draft = sp.Draft(
        title=_fit_title(item.title),
        url=item.link,
        observation=summary[: sp.MAX_OBSERVATION],
        tags=[],
    )
    try:
        signal = await sg.record(
            ctx,
            draft,
            origin=f"veille:{item.feed_name}"[:255],
            status=SIGNAL_RETAINED,
            use_default_territory=False,
        )
    except UserError as err:
        if not err.key.startswith("signaux.duplicate"):
            raise
        # Already a signal: the item leaves the queue, and the animator learns which one.
        await ctx.repos.feeds.decide(item, IGNORED, ctx.sender)
        return Reply(
            rich=ctx.rich(err.key, **err.params) + Rich("\n", "<br>") + ctx.rich("veille.dropped_dup")
        )
    signal.source_kind = "presse"
    await ctx.repos.feeds.decide(item, RETAINED, ctx.sender, signal.id)
    return sg.recorded_reply(ctx, signal)


def _fit_title(title: str) -> str:
    title = " ".join(title.split()) or "(sans titre)"
    if len(title) > sp.MAX_TITLE:
        title = title[: sp.MAX_TITLE - 1].rsplit(" ", 1)[0] + "…"
    return title if len(title) >= sp.MIN_TITLE else title + " …"


@queue.sub("ignorer", aliases=["ignore", "drop"], help="veille.ignorer.help")
async def ignore(ctx: Context, numeros: ItemNumbers) -> Reply:
    raws = [r for r in re.split(r"[\s,;]+", numeros) if r]
    if not raws:
        raise UserError("veille.errors.bad_number", value="")
    done: list[int] = []
    for raw in raws[:50]:
        item = await _queued_item(ctx, raw)
        await ctx.repos.feeds.decide(item, IGNORED, ctx.sender)
        done.append(item.id)
    left = (await ctx.repos.feeds.queue(limit=1))[1]
    return Reply("veille.ignored", n=len(done), numbers=", ".join(str(i) for i in done), left=left)


@queue.sub("sources", aliases=["feeds"], help="veille.sources.help")
async def sources(ctx: Context) -> Reply:
    cfg = veille_settings(ctx)
    if not cfg.sources:
        return Reply("veille.no_sources", hint=operator_hint(ctx, "veille.no_sources_operator"))
    states = await ctx.repos.feeds.states([s.url for s in cfg.sources])
    rows: list[Rich] = []
    for source in cfg.sources:
        state = states.get(source.url)
        name = link(source.url, source.name)
        if state is None or state.last_polled_at is None:
            rows.append(name + " — " + ctx.rich("veille.source_new"))
        elif state.failures:
            rows.append(
                name
                + " — "
                + ctx.rich(
                    "veille.source_failing",
                    n=state.failures,
                    error=state.last_error or "?",
                    next=state.next_poll_at or ctx.now(),
                )
            )
        else:
            rows.append(
                name + " — " + ctx.rich("veille.source_ok", when=state.last_ok_at or state.last_polled_at)
            )
    return Reply(rich=lines([ctx.rich("veille.sources_head", n=len(cfg.sources)), bullets(rows)]))
