"""What weak signals tell the network's evaluation: signals members shared, supports and
comments, and who took part."""

from __future__ import annotations

from bot.context import Context
from bot.indicators import Measure, Measures, Period, indicator


@indicator(order=30)
async def signal_indicators(ctx: Context, period: Period) -> Measures:
    shared, supports, comments, people = await ctx.repos.signals.activity(period.start, period.end)
    return Measures(
        [
            Measure("signaux.indicators.shared", shared),
            Measure("signaux.indicators.supports", supports),
            Measure("signaux.indicators.comments", comments),
        ],
        active=frozenset(people),
    )
