"""`oasis-bot export-evaluation --format csv [--depuis …] [--output …]`: the indicators
month by month and the aggregated results of the surveys, for the governance's reports.

One CSV (`;`-separated, with a BOM so spreadsheets read the accents), long format: a row
per indicator and month, then per survey closed its answers' totals and its participation.
No personal data: indicators are counts, surveys' results are totals (an anonymous survey
closed below its threshold has only its participation)."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from bot.cli import cli_command
from bot.config import Config
from bot.context import Context, Services
from bot.csvfile import to_csv
from bot.dates import parse_date
from bot.i18n import Translator, default_catalog
from bot.indicators import Indicator, Measure, Period
from bot.registry import REGISTRY
from bot.roles import Role
from commands.evaluation.render import value_text
from storage.db import Database
from storage.repositories.sondages import SurveyRepository

HEADERS_KEY = "evaluation.export.headers"


class _NoRooms:
    """Outside the bot, no room is known (indicators read the database only)."""

    def display_name(self, room_id: str, user_id: str) -> str:
        return user_id

    def is_direct(self, room_id: str) -> bool:
        return False

    def joined_members(self, room_id: str) -> list[str]:
        return []

    def joined_rooms(self) -> list[str]:
        return []

    def room_name(self, room_id: str) -> str:
        return room_id

    def room_aliases(self, room_id: str) -> list[str]:
        return []

    def space_children(self, room_id: str) -> list[str] | None:
        return None


class _Nobody:
    async def role_of(self, user_id: str, room_id: str, is_direct: bool) -> Role:
        return Role.MEMBER


def months(since: date, until: datetime) -> list[Period]:
    """Calendar months from `since`'s to `until`'s (the last one cut at `until`)."""
    tz = until.tzinfo
    out = []
    first = date(since.year, since.month, 1)
    while True:
        start = datetime.combine(first, time(0), tzinfo=tz)
        if start >= until:
            break
        following = date(first.year + first.month // 12, first.month % 12 + 1, 1)
        end = min(datetime.combine(following, time(0), tzinfo=tz), until)
        out.append(Period(start, end))
        first = following
    return out


def _number(tr: Translator, value: float | None) -> str:
    if value is None:
        return ""
    text = f"{value:.1f}".rstrip("0").rstrip(".") if isinstance(value, float) else str(value)
    return text.replace(".", ",") if tr.locale == "fr" else text


@dataclass
class Table:
    rows: list[list[str]]


async def indicator_rows(ctx: Context, indicators: list[Indicator], periods: list[Period]) -> list[list[str]]:
    tr = ctx.tr
    rows: list[list[str]] = []
    ordered = sorted(indicators, key=lambda i: i.order)
    for period in periods:
        people: set[str] = set()
        measures: list[Measure] = []
        for ind in ordered:
            found = await ind(ctx, period)
            measures.extend(found.measures)
            people |= found.active
        start, end = period.start.date().isoformat(), (period.end - timedelta(seconds=1)).date().isoformat()
        kind = tr.t("evaluation.export.indicator")
        rows.append([kind, start, end, tr.t("evaluation.active"), "", _number(tr, len(people))])
        for m in measures:
            label = tr.t(m.key) if tr.has(m.key) else m.key
            unit = value_text(tr, m.unit, 0).replace("0", "").strip() if m.unit != "count" else ""
            rows.append([kind, start, end, label, unit, _number(tr, m.value)])
    return rows


async def survey_rows(ctx: Context, since: datetime, until: datetime) -> list[list[str]]:
    tr = ctx.tr
    kind = tr.t("evaluation.export.survey")
    rows: list[list[str]] = []
    for s in await ctx.repos.of(SurveyRepository).closed_between(since, until):
        results = s.results or {}
        name = tr.t("evaluation.export.survey_name", number=s.id, question=s.question)
        start, end = s.created_at.date().isoformat(), (s.closed_at or s.closes_at).date().isoformat()
        for index, count in enumerate(results.get("counts") or []):
            answer = s.answers[index] if index < len(s.answers) else str(index + 1)
            rows.append([kind, start, end, name, answer, str(int(count))])
        rows.append(
            [
                kind,
                start,
                end,
                name,
                tr.t("evaluation.export.respondents"),
                str(results.get("respondents", 0)),
            ]
        )
        if results.get("eligible"):
            rows.append(
                [kind, start, end, name, tr.t("evaluation.export.eligible"), str(results["eligible"])]
            )
    return rows


async def export(ctx: Context, indicators: list[Indicator], since: date) -> str:
    now = ctx.now()
    periods = months(since, now)
    start = periods[0].start if periods else now
    rows: list[Sequence[object]] = [ctx.tr.list(HEADERS_KEY)]
    rows += await indicator_rows(ctx, indicators, periods)
    rows += await survey_rows(ctx, start, now)
    return to_csv(rows)  # a survey's question or answers may start like a formula


def _arguments(parser: argparse.ArgumentParser) -> None:
    tr = default_catalog().translator("fr")
    parser.description = tr.t("evaluation.export.description")
    parser.add_argument(
        "--format", "-f", choices=["csv"], default="csv", help=tr.t("evaluation.export.format")
    )
    parser.add_argument("--depuis", "--since", dest="since", help=tr.t("evaluation.export.since"))
    parser.add_argument("--output", "-o", help=tr.t("evaluation.export.output"))
    parser.add_argument("--config", "-c", default="config.toml")
    parser.add_argument("--lang", choices=["fr", "en"], default="fr")


@cli_command("export-evaluation", help="evaluation.export.help", configure=_arguments)
def export_evaluation_cli(args: argparse.Namespace) -> int:
    from bot.cli import report_config

    tr = default_catalog().translator(args.lang)
    config, text = report_config(args.config, args.lang)
    if config is None:
        print(text, file=sys.stderr)
        return 1
    now = datetime.now(config.tz)
    if args.since:
        since = parse_date(args.since, now, prefer="past")
        if since is None or since > now.date():
            print(tr.t("evaluation.export.bad_since", value=args.since), file=sys.stderr)
            return 1
    else:
        since = (now - timedelta(days=334)).date()  # the current month and the 11 before

    async def run() -> str:
        db = Database(config.database.url)
        try:
            await db.migrate()
            async with db.unit() as repos:
                ctx = _context(config, repos, args.lang)
                return await export(ctx, REGISTRY.indicators, since)
        finally:
            await db.dispose()

    try:
        content = asyncio.run(run())
    except OSError as exc:
        print(tr.t("evaluation.export.database", detail=type(exc).__name__), file=sys.stderr)
        return 1
    if args.output:
        Path(args.output).write_bytes(content.encode("utf-8-sig"))
        print(tr.t("evaluation.export.done", path=args.output), file=sys.stderr)
    else:
        sys.stdout.buffer.write(content.encode("utf-8"))
        sys.stdout.flush()
    return 0


def _context(config: Config, repos: Any, lang: str) -> Context:
    services = Services(
        config=config,
        catalog=default_catalog(),
        registry=REGISTRY,
        rooms=_NoRooms(),
        permissions=_Nobody(),
        bot_user_id=config.matrix.user_id,
    )
    return Context(services, repos, config.matrix.user_id, "", None, False, lang, Role.ADMIN)
