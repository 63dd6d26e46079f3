"""The periods `!evaluation` looks at: the last 30 days, quarter (13 weeks) or year, each
compared with the one just before, and cut in steps for the chart."""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.errors import BadArgument
from bot.indicators import Period
from bot.text import fold

LENGTHS = {"30j": timedelta(days=30), "trimestre": timedelta(weeks=13), "annee": timedelta(days=365)}
STEPS = {"30j": 5, "trimestre": 13, "annee": 12}  # 6 days, a week, about a month
ALIASES = {
    "30j": "30j",
    "30": "30j",
    "30jours": "30j",
    "30d": "30j",
    "mois": "30j",
    "month": "30j",
    "trimestre": "trimestre",
    "3mois": "trimestre",
    "quarter": "trimestre",
    "annee": "annee",
    "an": "annee",
    "12mois": "annee",
    "year": "annee",
}


def read_period(text: str) -> str:
    """The period a member names (« 30j », « trimestre », « année »…)."""
    name = ALIASES.get(fold(text).replace(" ", ""))
    if name is None:
        raise BadArgument("evaluation.errors.period", value=text)
    return name


def period_ending(name: str, now: datetime) -> Period:
    return Period(now - LENGTHS[name], now)
