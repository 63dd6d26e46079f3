"""How the evaluation reads: each feature's measures under its heading, with the trend
against the previous period; the chart's description (its alt text) and its drawing spec."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from bot.formatting import Rich, bold, bullets, lines
from bot.i18n import Translator
from bot.indicators import Measure, Unit
from commands.evaluation.service import ACTIVE_KEY, Evaluation, Row, Series

SCORE_STEP = 0.05  # a score moving less than this is stable


def value_text(tr: Translator, unit: Unit, value: float | None) -> str:
    if value is None:
        return tr.t("evaluation.none")
    if unit == "percent":
        return tr.t("evaluation.unit_percent", value=round(value))
    if unit == "score5":
        return tr.t("evaluation.unit_score5", value=round(value, 1))
    if unit == "nps":
        return f"{round(value):+d}".replace("-", "−")
    return tr.number(round(value))


def trend(tr: Translator, unit: Unit, value: float | None, previous: float | None) -> Rich:
    """« ↗ +3 », « ↘ −0,2 », « → = »; nothing when either side is unknown."""
    if value is None or previous is None:
        return Rich("", "")
    delta = value - previous
    if unit == "score5":
        delta = round(delta, 1)
        stable = abs(delta) < SCORE_STEP
        shown = tr.number(abs(delta))
    else:
        delta = round(delta)
        stable = delta == 0
        shown = tr.number(abs(int(delta)))
    if stable:
        return tr.rich("evaluation.trend_same")
    key = "evaluation.trend_up" if delta > 0 else "evaluation.trend_down"
    unit_key = "evaluation.points" if unit in ("percent", "nps") else "evaluation.plain"
    return tr.rich(key, delta=tr.rich(unit_key, value=shown))


def _line(tr: Translator, measure: Measure, previous: Measure | None) -> Rich:
    label = tr.t(measure.key) if tr.has(measure.key) else measure.key
    line = tr.rich(
        "evaluation.line",
        label=label,
        value=value_text(tr, measure.unit, measure.value),
        trend=trend(tr, measure.unit, measure.value, previous.value if previous else None),
    )
    if measure.detail:
        parts = " · ".join(
            tr.t("evaluation.detail_item", name=name, n=count) for name, count in measure.detail
        )
        line = line + tr.rich("evaluation.detail", detail=parts)
    return line


def evaluation_text(tr: Translator, ev: Evaluation, heading: Callable[[str], str], title_key: str) -> Rich:
    """The whole evaluation: one heading per feature, its measures, the active people."""
    parts: list[Rich] = [
        tr.rich(
            "evaluation.title",
            period=tr.rich(title_key),
            start=ev.period.start,
            end=ev.period.end - timedelta(seconds=1),
        )
    ]
    groups: dict[str, list[Row]] = {}
    for row in ev.rows:
        groups.setdefault(row.measure.feature, []).append(row)
    active = Measure(ACTIVE_KEY, ev.active)
    parts.append(bold(tr.t("evaluation.overall")))
    parts.append(bullets([_line(tr, active, Measure(ACTIVE_KEY, ev.active_before))]))
    for feature, rows in groups.items():
        parts.append(bold(heading(feature)))
        parts.append(bullets([_line(tr, r.measure, r.previous) for r in rows]))
    parts.append(tr.rich("evaluation.compared"))
    return lines(parts)


def step_label(tr: Translator, series: Series, index: int) -> str:
    step = series.steps[index]
    return tr.value(step.start.date(), "day_month").plain


def chart_spec(tr: Translator, ev: Evaluation, title_key: str) -> dict[str, object]:
    series = ev.series
    return {
        "title": tr.t("evaluation.chart_title", period=tr.t(title_key)),
        "labels": [step_label(tr, series, i) for i in range(len(series.steps))],
        "participation": series.bars,
        "score": series.line,
        "participation_label": tr.t(series.bars_key) + " (%)" if series.bars_key else "",
        "score_label": tr.t("evaluation.chart_score"),
        "score_min": 1,
        "score_max": 5,
        "empty": tr.t("evaluation.chart_empty"),
        "decimal": "," if tr.locale == "fr" else ".",
    }


def alt_text(tr: Translator, ev: Evaluation, title_key: str) -> str:
    """What the chart shows, in words (its alt text: read by screen readers, shown by
    clients that do not display images)."""
    series = ev.series
    points = []
    for i in range(len(series.steps)):
        bar, score = series.bars[i], series.line[i]
        if bar is None and score is None:
            continue
        points.append(
            tr.t(
                "evaluation.alt_point",
                step=step_label(tr, series, i),
                participation=value_text(tr, "percent", bar),
                score=value_text(tr, "score5", score),
            )
        )
    if not points:
        return tr.t("evaluation.alt_empty", period=tr.t(title_key))
    return tr.t(
        "evaluation.alt", period=tr.t(title_key), points=tr.t("evaluation.alt_separator").join(points)
    )
