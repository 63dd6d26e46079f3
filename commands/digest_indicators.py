"""What the digest tells the network's evaluation: digests published."""

from __future__ import annotations

from bot.context import Context
from bot.indicators import Measure, Measures, Period, indicator


@indicator(order=40)
async def digest_indicators(ctx: Context, period: Period) -> Measures:
    published = await ctx.repos.digests.count_between(period.start, period.end)
    return Measures([Measure("digest.indicators.published", published)])
