"""The evaluation: every declared indicator measured over a period and the one before,
the active contributors counted once across features, and the chart's series."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from bot.context import Context
from bot.indicators import Indicator, Measure, Period

ACTIVE_KEY = "evaluation.active"


@dataclass(frozen=True)
class Row:
    measure: Measure
    previous: Measure | None


@dataclass(frozen=True)
class Series:
    """The chart: one label per step, the percentages drawn as bars and the scores as a
    line (None where nothing was measured)."""

    steps: list[Period]
    bars: list[float | None] = field(default_factory=list)
    line: list[float | None] = field(default_factory=list)
    bars_key: str | None = None
    line_key: str | None = None


@dataclass(frozen=True)
class Evaluation:
    period: Period
    rows: list[Row]
    active: int
    active_before: int
    series: Series

    @property
    def previous(self) -> Period:
        return self.period.previous


async def evaluate(ctx: Context, indicators: Sequence[Indicator], period: Period, steps: int) -> Evaluation:
    ordered = sorted(indicators, key=lambda i: i.order)
    now_rows: list[Measure] = []
    before: dict[str, Measure] = {}
    active: set[str] = set()
    active_before: set[str] = set()
    for ind in ordered:
        measured = await ind(ctx, period)
        now_rows.extend(measured.measures)
        active |= measured.active
        earlier = await ind(ctx, period.previous)
        before.update({m.key: m for m in earlier.measures})
        active_before |= earlier.active
    rows = [Row(m, before.get(m.key)) for m in now_rows]
    return Evaluation(
        period, rows, len(active), len(active_before), await series(ctx, ordered, period, steps)
    )


async def series(ctx: Context, indicators: Sequence[Indicator], period: Period, count: int) -> Series:
    steps = period.steps(count)
    bars: list[float | None] = []
    line: list[float | None] = []
    bars_key = line_key = None
    for step in steps:
        bar: float | None = None
        point: float | None = None
        for ind in indicators:
            if not ind.charted:
                continue
            for m in (await ind(ctx, step)).measures:
                if m.chart == "bars" and bar is None:
                    bar, bars_key = m.value, m.key
                elif m.chart == "line" and point is None:
                    point, line_key = m.value, m.key
        bars.append(bar)
        line.append(point)
    return Series(steps, bars, line, bars_key, line_key)
