"""Indicators: what each feature measures of the network's life, for `!evaluation`.

An extension point of the runtime. A feature declares its indicators beside its code,
like its commands, and the evaluation reads them all without importing any feature:

    @indicator(order=30)
    async def signal_indicators(ctx: Context, period: Period) -> Measures:
        shared = await ctx.repos.signals.count_created(period.start, period.end)
        return Measures([Measure("signaux.indicators.shared", shared)], active=authors)

(Declared, an indicator is registered like a command: `REGISTRY.indicators`.) A measure's
key is the catalog key of its label, under its feature's name (`!evaluation`
groups measures by that name). `active` lists the people who took part in the period, so
« active contributors » counts each person once across features. An indicator declared
`charted` is also measured over each step of the chart, where its measures with a `chart`
role are drawn (`bars`: a percentage; `line`: a score on the 1–5 scale)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from bot.context import Context

Unit = Literal["count", "percent", "score5", "nps"]
ChartRole = Literal["bars", "line"]


@dataclass(frozen=True)
class Period:
    """[start, end): what happened from `start` until just before `end`."""

    start: datetime
    end: datetime
    # A step of the chart: only the measures with a chart role are read, and `active`
    # may be left empty (an indicator may skip what costs).
    chart_step: bool = False

    @property
    def previous(self) -> Period:
        """The period of the same length just before (what a trend compares with)."""
        return Period(self.start - (self.end - self.start), self.start)

    def steps(self, count: int) -> list[Period]:
        """The period cut into `count` equal steps, oldest first (chart steps)."""
        length = (self.end - self.start) / count
        return [
            Period(self.start + length * i, self.start + length * (i + 1), chart_step=True)
            for i in range(count)
        ]


@dataclass(frozen=True)
class Measure:
    key: str  # catalog key of the label: « <feature>.… »
    value: float | None  # None: nothing to measure in the period
    unit: Unit = "count"
    # A distribution to show beside the value (label → count), e.g. the pulse's 1 to 5.
    detail: tuple[tuple[str, int], ...] = ()
    chart: ChartRole | None = None

    @property
    def feature(self) -> str:
        return self.key.split(".", 1)[0]


@dataclass(frozen=True)
class Measures:
    measures: Sequence[Measure]
    active: frozenset[str] = field(default_factory=frozenset)


IndicatorFn = Callable[["Context", Period], Awaitable[Measures]]


@dataclass(frozen=True, eq=False)
class Indicator:
    """An indicator declared beside its code (`@indicator`); collected from the feature's
    modules like its commands."""

    fn: IndicatorFn
    order: int = 100
    charted: bool = False

    async def __call__(self, ctx: Context, period: Period) -> Measures:
        return await self.fn(ctx, period)


def indicator(*, order: int = 100, charted: bool = False) -> Callable[[IndicatorFn], Indicator]:
    """Declare a feature's indicators (`order`: their place in `!evaluation`)."""

    def declare(fn: IndicatorFn) -> Indicator:
        from bot.registry import REGISTRY

        declared = Indicator(fn, order, charted)
        REGISTRY.indicators.append(declared)
        return declared

    return declare
