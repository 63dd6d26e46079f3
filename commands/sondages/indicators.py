"""What surveys tell the evaluation: how many closed, the participation, the pulse score
(mean and distribution of the 1–5 answers), the NPS where it is asked, and who answered
(surveys that are not anonymous only)."""

from __future__ import annotations

from bot.context import Context
from bot.indicators import Measure, Measures, Period, indicator
from commands.sondages.counting import NPS, PULSE, mean_score, net_promoter_score, scale_values
from storage.repositories.sondages import SurveyRepository


def _ms(period: Period) -> tuple[int, int]:
    return int(period.start.timestamp() * 1000), int(period.end.timestamp() * 1000)


@indicator(order=60, charted=True)
async def survey_indicators(ctx: Context, period: Period) -> Measures:
    surveys = await ctx.repos.of(SurveyRepository).results_between(period.start, period.end)
    respondents = eligible = 0
    pulse = [0] * 5
    nps = [0] * 11
    nps_asked = False
    for kind, results in surveys:
        if results.get("eligible"):
            respondents += int(results.get("respondents", 0))
            eligible += int(results["eligible"])
        counts = results.get("counts")
        if counts is None:
            continue
        if kind == PULSE and len(counts) == 5:
            pulse = [a + int(b) for a, b in zip(pulse, counts, strict=True)]
        elif kind == NPS and len(counts) == 11:
            nps = [a + int(b) for a, b in zip(nps, counts, strict=True)]
            nps_asked = True
    values = scale_values(PULSE) or []
    measures = [
        Measure("sondages.indicators.closed", len(surveys)),
        Measure(
            "sondages.indicators.participation",
            round(100 * respondents / eligible, 1) if eligible else None,
            "percent",
            chart="bars",
        ),
        Measure(
            "sondages.indicators.pulse",
            mean_score(pulse, values),
            "score5",
            detail=tuple((str(v), n) for v, n in zip(values, pulse, strict=True)) if any(pulse) else (),
            chart="line",
        ),
    ]
    if nps_asked:
        measures.append(Measure("sondages.indicators.nps", net_promoter_score(nps), "nps"))
    if period.chart_step:
        return Measures(measures)
    start, end = _ms(period)
    return Measures(
        measures, active=frozenset(await ctx.repos.of(SurveyRepository).voters_between(start, end))
    )
