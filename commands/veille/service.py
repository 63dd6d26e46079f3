"""The rules of the curation queue: an item retained becomes a signal (already retained,
tagged « presse », its origin the feed), or leaves the queue if that signal exists
already; items ignored leave it. The only place that changes the queue's rows."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bot.context import Context
from bot.errors import UserError
from commands import signal_parsing as sp
from commands import signals as sg
from storage.repositories.feeds import IGNORED, QUEUED, RETAINED
from storage.repositories.signals import RETAINED as SIGNAL_RETAINED

if TYPE_CHECKING:
    from storage.models.signals import FeedItem, Signal


@dataclass(frozen=True)
class Retained:
    """What `retain` did: the new signal, or the refusal of a duplicate (the item left
    the queue all the same)."""

    signal: Signal | None = None
    duplicate: UserError | None = None


async def queued_item(ctx: Context, number: int) -> FeedItem:
    """The queue's item `number`, still waiting for a decision."""
    item = await ctx.repos.feeds.get(number)
    if item is None:
        raise UserError("veille.errors.unknown", n=number)
    if item.status != QUEUED:
        key = "veille.errors.already_retained" if item.status == RETAINED else "veille.errors.already_ignored"
        raise UserError(key, n=number, id=item.signal_id or 0)
    return item


async def retain(ctx: Context, number: int) -> Retained:
    item = await queued_item(ctx, number)
    summary = re.sub(r"\s+", " ", item.summary or "").strip()
    draft = sp.Draft(
        title=fit_title(item.title),
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
        return Retained(duplicate=err)
    signal.source_kind = "presse"
    await ctx.repos.feeds.decide(item, RETAINED, ctx.sender, signal.id)
    return Retained(signal=signal)


async def drop(ctx: Context, numbers: list[int]) -> tuple[list[int], int]:
    """Drop these items; returns their numbers and how many are left in the queue."""
    done: list[int] = []
    for number in numbers:
        item = await queued_item(ctx, number)
        await ctx.repos.feeds.decide(item, IGNORED, ctx.sender)
        done.append(item.id)
    left = (await ctx.repos.feeds.queue(limit=1))[1]
    return done, left


def fit_title(title: str) -> str:
    title = " ".join(title.split()) or "(sans titre)"
    if len(title) > sp.MAX_TITLE:
        title = title[: sp.MAX_TITLE - 1].rsplit(" ", 1)[0] + "…"
    return title if len(title) >= sp.MIN_TITLE else title + " …"
