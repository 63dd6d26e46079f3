"""What the welcome tells the network's evaluation: how many members, how many new."""

from __future__ import annotations

from bot.context import Context
from bot.indicators import Measure, Measures, Period, indicator


@indicator(order=10)
async def member_indicators(ctx: Context, period: Period) -> Measures:
    members, new = await ctx.repos.welcomes.arrivals(period.start, period.end)
    return Measures(
        [Measure("accueil.indicators.members", members), Measure("accueil.indicators.new_members", new)]
    )
