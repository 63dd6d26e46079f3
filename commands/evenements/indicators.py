"""What events tell the network's evaluation: the webinars and meetings held in the
period (not cancelled), the seats taken in them and how many different people came."""

from __future__ import annotations

from bot.context import Context
from bot.indicators import Measure, Measures, Period, indicator


@indicator(order=50)
async def event_indicators(ctx: Context, period: Period) -> Measures:
    held, seats, people = await ctx.repos.events.held_between(period.start, period.end)
    return Measures(
        [
            Measure("evenements.indicators.held", held),
            Measure("evenements.indicators.participants", people),
            Measure("evenements.indicators.seats", seats),
        ]
    )
