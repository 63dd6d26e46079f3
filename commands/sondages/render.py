"""How surveys read: the poll's text fallback, the results with a text bar chart and the
participation, the list of surveys.

Bars are drawn with block characters at the start of each line, so they line up whatever
the font: « ██████░░░░ 60 % · 6 — Oui »."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from bot.formatting import Rich, bold, bullets, code, lines
from bot.i18n import Translator
from commands.sondages.counting import NPS, PULSE, Tally, mean_score, net_promoter_score, scale_values

BAR_WIDTH = 10
FULL, EMPTY = "█", "░"


def bar(share: float, width: int = BAR_WIDTH) -> str:
    """A bar of `width` cells, `share` (0..1) of them full; a non-zero share shows at
    least one cell, so « 1 vote » never looks like none."""
    share = min(max(share, 0.0), 1.0)
    full = round(share * width)
    if share > 0 and full == 0:
        full = 1
    return FULL * full + EMPTY * (width - full)


def percent(part: int, whole: int) -> int:
    return round(100 * part / whole) if whole else 0


@dataclass(frozen=True)
class SurveyView:
    """What the rendering needs of a survey (a stored one, or one being created)."""

    number: int
    question: str
    answers: Sequence[str]
    kind: str = "question"
    max_selections: int = 1
    anonymous: bool = False
    hidden: bool = False
    governance: bool = False
    closes_at: datetime | None = None
    closed_at: datetime | None = None


def title(tr: Translator, view: SurveyView) -> Rich:
    key = "sondages.title_anonymous" if view.anonymous else "sondages.title"
    return tr.rich(key, number=view.number, question=view.question)


def fallback_text(tr: Translator, view: SurveyView, prefix: str = "!") -> str:
    """The poll's text: what clients without polls show, and how to vote there."""
    parts = [title(tr, view).plain]
    parts += [f"{i}. {answer}" for i, answer in enumerate(view.answers, start=1)]
    notes = notes_of(tr, view)
    if notes:
        parts.append(notes.plain)
    parts.append(tr.t("sondages.fallback_vote", command=f"{prefix}vote {view.number}"))
    return "\n".join(parts)


def notes_of(tr: Translator, view: SurveyView) -> Rich:
    """The survey's rules in one line: several choices, governance only, hidden results,
    until when."""
    notes: list[Rich] = []
    if view.max_selections > 1:
        notes.append(tr.rich("sondages.note_multiple", n=view.max_selections))
    if view.governance:
        notes.append(tr.rich("sondages.note_governance"))
    if view.hidden and not view.anonymous:
        notes.append(tr.rich("sondages.note_hidden"))
    if view.closes_at is not None and view.closed_at is None:
        notes.append(tr.rich("sondages.note_until", when=view.closes_at))
    out = Rich("", "")
    for i, note in enumerate(notes):
        out = out + (Rich(" · ", " · ") if i else Rich("", "")) + note
    return out


def participation(tr: Translator, respondents: int, eligible: int | None) -> Rich:
    if not eligible:
        return tr.rich("sondages.participation_count", n=respondents)
    return tr.rich(
        "sondages.participation",
        n=respondents,
        eligible=tr.rich("sondages.eligible", n=eligible),
        percent=percent(respondents, eligible),
    )


def chart_lines(tr: Translator, answers: Sequence[str], result: Tally) -> list[Rich]:
    out = []
    for index, answer in enumerate(answers):
        count = result.counts[index]
        share = result.share(index)
        line = tr.rich(
            "sondages.bar_line",
            bar=code(bar(share)),
            percent=percent(count, result.respondents),
            n=count,
            answer=answer,
        )
        out.append(bold(line) if index in result.leaders and result.respondents else line)
    return out


def scores(tr: Translator, kind: str, result: Tally) -> list[Rich]:
    values = scale_values(kind)
    if values is None or len(values) != len(result.counts) or not result.respondents:
        return []
    out = []
    mean = mean_score(result.counts, values)
    if mean is not None and kind == PULSE:
        out.append(tr.rich("sondages.score_pulse", score=round(mean, 1)))
    if kind == NPS:
        nps = net_promoter_score(result.counts)
        if nps is not None:
            out.append(tr.rich("sondages.score_nps", score=f"{nps:+d}", mean=round(mean or 0.0, 1)))
    return out


def results(
    tr: Translator,
    view: SurveyView,
    result: Tally | None,
    *,
    respondents: int,
    eligible: int | None,
    threshold: int,
) -> Rich:
    """The results message. `result` is None when only the participation may be shown
    (anonymous and open, or below the threshold); then it says why."""
    state = "sondages.state_closed" if view.closed_at is not None else "sondages.state_open"
    parts: list[Rich] = [tr.rich("sondages.results_title", title=title(tr, view), state=tr.rich(state))]
    if result is not None:
        parts += chart_lines(tr, view.answers, result)
        parts += scores(tr, view.kind, result)
        if view.max_selections > 1:
            parts.append(tr.rich("sondages.multiple_shares"))
    parts.append(participation(tr, respondents, eligible))
    if result is None and view.anonymous:
        if view.closed_at is None:
            parts.append(tr.rich("sondages.anonymous_until_end", k=threshold))
        else:
            parts.append(tr.rich("sondages.below_threshold", k=threshold))
    return lines(parts)


def listing(tr: Translator, items: Sequence[tuple[SurveyView, int, int | None]], prefix: str = "!") -> Rich:
    """`!sondages`: one line per survey (its view, respondents, eligible at the end)."""
    if not items:
        return tr.rich("sondages.list_empty", command=code(f"{prefix}sondage"))
    rows = []
    for view, respondents, eligible in items:
        state = (
            tr.rich("sondages.list_open", when=view.closes_at)
            if view.closed_at is None
            else tr.rich("sondages.list_closed", when=view.closed_at)
        )
        rows.append(
            tr.rich(
                "sondages.list_line",
                number=view.number,
                lock="🔒 " if view.anonymous else "",
                question=view.question,
                state=state,
                answers=participation(tr, respondents, eligible if view.closed_at else None),
            )
        )
    return lines(
        [
            tr.rich("sondages.list_title"),
            bullets(rows),
            tr.rich("sondages.list_more", command=code(f"{prefix}sondage resultats")),
        ]
    )
