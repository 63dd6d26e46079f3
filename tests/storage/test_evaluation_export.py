"""`oasis-bot export-evaluation`: the indicators month by month and the surveys' totals,
on both engines, and the command line."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from bot.cli import main
from bot.registry import REGISTRY
from commands.evaluation.export import export, months
from storage.db import Database
from storage.models.directory import Welcome
from storage.models.sondages import Survey
from tests.support.fakes import make_context, make_services, test_config

NOW = datetime(2026, 3, 20, 12, 0, tzinfo=UTC)


def test_months() -> None:
    found = months(date(2026, 1, 15), NOW)
    assert [(p.start.date(), p.end.date()) for p in found] == [
        (date(2026, 1, 1), date(2026, 2, 1)),
        (date(2026, 2, 1), date(2026, 3, 1)),
        (date(2026, 3, 1), date(2026, 3, 20)),
    ]


def closed_survey(n: int, at: datetime, *, anonymous: bool, counts: list[int] | None) -> Survey:
    return Survey(
        id=n,
        room_id="!r:x",
        question=f"Question {n} ?",
        answers=["Oui", "Non"],
        kind="question",
        anonymous=anonymous,
        author_id="@anim:x",
        created_at=at - timedelta(days=2),
        closes_at=at,
        closed_at=at,
        results={"respondents": 6 if counts else 2, "eligible": 10, **({"counts": counts} if counts else {})},
    )


async def test_indicators_by_month_and_survey_totals(db: Database) -> None:
    async with db.unit() as repos:
        repos.session.add(
            Welcome(
                group_key="g", user_id="@a:x", room_id="!r:x", posted=True, joined_at=NOW - timedelta(days=30)
            )
        )
        repos.session.add(closed_survey(1, NOW - timedelta(days=25), anonymous=False, counts=[4, 2]))
        repos.session.add(closed_survey(2, NOW - timedelta(days=3), anonymous=True, counts=None))
        await repos.commit()
    services = make_services(test_config(), clock=lambda: NOW)
    async with db.unit() as repos:
        ctx = await make_context(repos, services=services)
        text = await export(ctx, REGISTRY.indicators, date(2026, 2, 1))
    rows = list(csv.reader(io.StringIO(text.replace("\u00a0", " ")), delimiter=";"))
    assert rows[0] == ["Type", "Début", "Fin", "Élément", "Détail", "Valeur"]
    february = [r for r in rows if r[0] == "indicateur" and r[1] == "2026-02-01"]
    assert ["indicateur", "2026-02-01", "2026-02-28", "Nouveaux membres", "", "1"] in february
    assert ["indicateur", "2026-02-01", "2026-02-28", "Participation aux sondages", "%", "60"] in february
    assert ["indicateur", "2026-03-01", "2026-03-20", "Sondages clos", "", "1"] in rows
    assert ["sondage", "2026-02-21", "2026-02-23", "Sondage n° 1 : Question 1 ?", "Oui", "4"] in rows
    assert [
        "sondage",
        "2026-02-21",
        "2026-02-23",
        "Sondage n° 1 : Question 1 ?",
        "Membres éligibles",
        "10",
    ] in rows
    # Anonymous and below its threshold: its participation only.
    second = [r for r in rows if r[3].startswith("Sondage n° 2")]
    assert [r[4] for r in second] == ["Réponses", "Membres éligibles"]
    assert "@a:x" not in text and "@anim:x" not in text


async def test_answers_that_look_like_formulas_are_written_as_text(db: Database) -> None:
    survey = closed_survey(1, NOW - timedelta(days=2), anonymous=False, counts=[3, 1])
    survey.answers = ['=HYPERLINK("https://evil.example";"Oui")', "-Non"]
    async with db.unit() as repos:
        repos.session.add(survey)
        await repos.commit()
    services = make_services(test_config(), clock=lambda: NOW)
    async with db.unit() as repos:
        ctx = await make_context(repos, services=services)
        text = await export(ctx, REGISTRY.indicators, date(2026, 3, 1))
    rows = list(csv.reader(io.StringIO(text), delimiter=";"))
    answers = [r[4] for r in rows if r[0] == "sondage"]
    assert answers[:2] == ['\'=HYPERLINK("https://evil.example";"Oui")', "'-Non"]
    assert all(
        not cell.startswith(("=", "+", "-", "@")) or cell.lstrip("-").isdigit() for r in rows for cell in r
    )


def test_the_command_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "config.toml"
    config.write_text(
        '[matrix]\nhomeserver = "http://127.0.0.1:1"\nuser_id = "@oasis:x.org"\npassword = "x"\n'
        '[bot]\nrooms = ["!net:x.org"]\n'
        f'[database]\nurl = "sqlite+aiosqlite:///{tmp_path / "oasis.db"}"\n'
    )
    output = tmp_path / "evaluation.csv"
    assert (
        main(
            [
                "export-evaluation",
                "--format",
                "csv",
                "--depuis",
                "01/01/2026",
                "-o",
                str(output),
                "-c",
                str(config),
            ]
        )
        == 0
    )
    data = output.read_bytes()
    assert data.startswith("\ufeffType;Début;Fin".encode())
    assert "Évaluation écrite dans" in capsys.readouterr().err
    assert main(["export-evaluation", "--depuis", "n'importe quand", "-c", str(config)]) == 1
    assert "--depuis" in capsys.readouterr().err
