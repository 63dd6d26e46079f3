"""The evaluation with a frozen clock and fake indicators: periods, trends, grouping by
feature, active people counted once, the chart's series, spec and alt text."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.errors import BadArgument
from bot.i18n import default_catalog as catalog
from bot.indicators import Measure, Measures, Period, indicator
from commands.evaluation.periods import STEPS, period_ending, read_period
from commands.evaluation.render import alt_text, chart_spec, evaluation_text, trend, value_text
from commands.evaluation.service import evaluate

NOW = datetime(2026, 3, 31, 12, 0, tzinfo=UTC)
PARIS = ZoneInfo("Europe/Paris")


def tr(locale: str = "fr"):  # type: ignore[no-untyped-def]
    return catalog().translator(locale, PARIS)


def nb(text: str) -> str:
    return text.replace("\u00a0", " ").replace("\u202f", " ")


def test_periods() -> None:
    assert (
        read_period("30j") == "30j"
        and read_period("Année") == "annee"
        and read_period("quarter") == "trimestre"
    )
    with pytest.raises(BadArgument):
        read_period("semaine")
    period = period_ending("30j", NOW)
    assert period == Period(NOW - timedelta(days=30), NOW)
    assert period.previous == Period(NOW - timedelta(days=60), NOW - timedelta(days=30))
    steps = period.steps(STEPS["30j"])
    assert len(steps) == 5 and steps[0].start == period.start and steps[-1].end == NOW
    assert all(s.end - s.start == timedelta(days=6) for s in steps)


def test_values_and_trends() -> None:
    t = tr()
    assert value_text(t, "count", 1234).replace("\u202f", " ") == "1 234"
    assert nb(value_text(t, "percent", 38.4)) == "38 %"
    assert nb(value_text(t, "score5", 3.86)) == "3,9 / 5"
    assert value_text(t, "nps", -12) == "−12" and value_text(t, "nps", 25) == "+25"
    assert value_text(t, "count", None) == "—"
    assert trend(t, "count", 12, 9).plain == " (↗ +3)"
    assert trend(t, "count", 9, 12).plain == " (↘ −3)"
    assert trend(t, "count", 9, 9).plain == " (→ stable)"
    assert trend(t, "percent", 40, 34.6).plain == " (↗ +5 pts)"
    assert trend(t, "score5", 3.9, 3.7).plain == " (↗ +0,2)"
    assert trend(t, "score5", 3.92, 3.9).plain == " (→ stable)"
    assert trend(t, "count", 3, None).plain == ""


async def test_evaluation_groups_trends_and_counts_people_once() -> None:
    calls: list[Period] = []
    current = period_ending("30j", NOW)

    @indicator(order=20)
    async def signals(ctx: object, period: Period) -> Measures:
        calls.append(period)
        now = period == current
        return Measures(
            [Measure("signaux.indicators.shared", 12 if now else 9)],
            active=frozenset({"@a:x", "@b:x"} if now else {"@a:x"}),
        )

    @indicator(order=60, charted=True)
    async def surveys(ctx: object, period: Period) -> Measures:
        in_march = period == current or period.start >= datetime(2026, 3, 14, tzinfo=UTC)
        return Measures(
            [
                Measure(
                    "sondages.indicators.participation", 40.0 if in_march else None, "percent", chart="bars"
                ),
                Measure(
                    "sondages.indicators.pulse",
                    3.9 if in_march else None,
                    "score5",
                    detail=(("1", 0), ("5", 2)),
                    chart="line",
                ),
            ],
            active=frozenset({"@b:x", "@c:x"} if period == current else set()),
        )

    ev = await evaluate(None, [surveys, signals], current, STEPS["30j"])  # type: ignore[arg-type]
    assert [r.measure.key for r in ev.rows] == [
        "signaux.indicators.shared",
        "sondages.indicators.participation",
        "sondages.indicators.pulse",
    ]
    assert (ev.active, ev.active_before) == (3, 1)
    assert calls == [current, current.previous]  # not charted: not measured per step
    assert ev.series.bars == [None, None, None, 40.0, 40.0] and ev.series.line[-1] == 3.9
    text = nb(
        evaluation_text(
            tr(), ev, lambda f: {"signaux": "Signaux", "sondages": "Sondages"}[f], "evaluation.periods.30j"
        ).plain
    )
    lines = text.splitlines()
    assert (
        lines[0] == "📈 Évaluation du réseau — les 30 derniers jours (du dimanche 1er mars au mardi 31 mars)"
    )
    assert "• Contributeurs actifs : 3 (↗ +2)" in lines
    assert "• Participation aux sondages : 40 %" in lines
    assert "• Pouls (note moyenne) : 3,9 / 5 — 1 : 0 · 5 : 2" in lines
    assert lines.index("Signaux") < lines.index("Sondages")
    spec = chart_spec(tr(), ev, "evaluation.periods.30j")
    assert spec["labels"] == ["1er mars", "7 mars", "13 mars", "19 mars", "25 mars"]
    assert (
        spec["participation"] == ev.series.bars
        and spec["participation_label"] == "Participation aux sondages (%)"
    )
    alt = nb(alt_text(tr(), ev, "evaluation.periods.30j"))
    assert alt == (
        "Graphique du pouls et de la participation aux sondages, les 30 derniers jours : "
        "19 mars, participation 40 %, pouls 3,9 / 5 ; 25 mars, participation 40 %, pouls 3,9 / 5."
    )
