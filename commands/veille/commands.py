"""The veille's commands: `!veille` (the curation queue), `!veille retenir N` (the item
becomes a signal), `!veille ignorer N…`, `!veille sources` (how each feed is doing)."""

from __future__ import annotations

import re

from bot.arguments import ArgType
from bot.context import Context, Reply
from bot.errors import BadArgument, UserError
from bot.formatting import Rich, bullets, code, join, lines, link
from bot.hints import operator_hint
from bot.registry import command
from bot.roles import Role
from commands import signal_parsing as sp
from commands import signals as sg
from commands.veille.config import VeilleConfig
from commands.veille.service import drop, retain

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


def veille_settings(ctx: Context) -> VeilleConfig:
    return ctx.config.section(VeilleConfig)


def item_number(ctx: Context, item_id: int) -> str:
    return ctx.t("veille.number", n=item_id)


@command(
    "veille", aliases=["feeds", "watch"], role=Role.ANIMATOR, help="veille.veille.help", feature="veille"
)
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


def _number(raw: str) -> int:
    try:
        return sp.signal_id(raw)
    except UserError:
        raise UserError("veille.errors.bad_number", value=raw.strip()[:40]) from None


@queue.sub("retenir", aliases=["keep", "retain"], help="veille.retenir.help")
async def keep(ctx: Context, id: ItemNumber) -> Reply:
    done = await retain(ctx, int(id))
    if done.duplicate is not None:
        err = done.duplicate
        return Reply(
            rich=ctx.rich(err.key, **err.params) + Rich("\n", "<br>") + ctx.rich("veille.dropped_dup")
        )
    assert done.signal is not None
    return sg.recorded_reply(ctx, done.signal)


@queue.sub("ignorer", aliases=["ignore", "drop"], help="veille.ignorer.help")
async def ignore(ctx: Context, numeros: ItemNumbers) -> Reply:
    raws = [r for r in re.split(r"[\s,;]+", numeros) if r]
    if not raws:
        raise UserError("veille.errors.bad_number", value="")
    done, left = await drop(ctx, [_number(raw) for raw in raws[:50]])
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
