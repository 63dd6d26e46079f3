"""`!evaluation [30j|trimestre|annee]` (alias `!stats`): the network's indicators over the
period with their trend, then the chart of the pulse and the participation."""

from __future__ import annotations

import logging

from bot.arguments import ArgType
from bot.context import Context, Reply
from bot.registry import command
from commands.evaluation.chart import draw, png_size
from commands.evaluation.periods import STEPS, period_ending, read_period
from commands.evaluation.render import alt_text, chart_spec, evaluation_text
from commands.evaluation.service import evaluate

log = logging.getLogger(__name__)


class PeriodName(str, ArgType):
    """« 30j », « trimestre », « année » (and « mois », « an », « quarter »…)."""

    label = "periode"

    @classmethod
    def parse(cls, raw: str, ctx: Context) -> PeriodName:
        return cls(read_period(raw))


DEFAULT_PERIOD = PeriodName("30j")


def heading(ctx: Context, feature: str) -> str:
    for key in (f"{feature}.feature_name", f"features.{feature}"):
        if ctx.tr.has(key):
            return ctx.t(key)
    return feature


@command("evaluation", aliases=["stats", "evaluer", "evaluate"], help="evaluation.help", feature="evaluation")
async def evaluation(ctx: Context, periode: PeriodName = DEFAULT_PERIOD) -> Reply | None:
    period = period_ending(periode, ctx.now())
    found = await evaluate(ctx, ctx.services.registry.indicators, period, STEPS[periode])
    title_key = f"evaluation.periods.{periode}"
    text = evaluation_text(ctx.tr, found, lambda f: heading(ctx, f), title_key)
    reply_to = None if ctx.is_direct else ctx.event_id
    await ctx.send(Reply(rich=text), reply_to=reply_to, thread_root=ctx.thread_root)
    png = await draw(chart_spec(ctx.tr, found, title_key))
    if png is not None:
        await ctx.send_image(
            png,
            f"evaluation-{periode}.png",
            "image/png",
            alt=alt_text(ctx.tr, found, title_key),
            size=png_size(png),
            reply_to=reply_to,
            thread_root=ctx.thread_root,
        )
    return None
