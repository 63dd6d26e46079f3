"""The evaluation chart is a real PNG, drawn in another process: matplotlib never enters
the bot's."""

from __future__ import annotations

import sys

from commands.evaluation.chart import draw, png_size

SPEC = {
    "title": "Pouls et participation — 30 derniers jours",
    "labels": ["3 mars", "10 mars", "17 mars", "24 mars"],
    "participation": [35.0, None, 51.0, 40.0],
    "score": [3.8, None, 4.1, None],
    "participation_label": "Participation (%)",
    "score_label": "Pouls (sur 5)",
    "score_min": 1,
    "score_max": 5,
    "empty": "Pas encore de données",
}


async def test_chart_is_a_png_drawn_out_of_process() -> None:
    png = await draw(SPEC)
    assert png is not None
    assert png_size(png) == (720, 360)
    assert 5_000 < len(png) < 120_000
    empty = await draw({**SPEC, "participation": [None] * 4, "score": [None] * 4})
    assert empty is not None and png_size(empty) == (720, 360)
    assert "matplotlib" not in sys.modules


async def test_a_chart_that_cannot_be_drawn_is_none() -> None:
    assert await draw({"labels": "not a list", "participation": [1, "x"]}) is None
