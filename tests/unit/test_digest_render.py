"""The digest's content: ranking kept inside STEEPL (or nature) groups, French and English,
HTML and its plain-text fallback (no database)."""

from __future__ import annotations

import tomllib
from datetime import UTC, datetime
from pathlib import Path
from string import Formatter
from typing import Any

import pytest

from bot.context import Context
from commands.digest import DigestItem, DigestPlan, grouped, one_line, render
from storage.models.signals import Signal
from tests.support.fakes import make_context, make_services, test_config

START = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
END = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)


def sig(i: int, category: str, support: int, **kw: Any) -> Signal:
    defaults: dict[str, Any] = {
        "id": i,
        "title": f"Signal {i}",
        "url": f"https://exemple.fr/{i}",
        "category": category,
        "nature": "signal_faible",
        "why": "",
        "observation": "",
        "territory": "Hérault (34)",
        "author_id": "@camille:example.org",
        "author_name": "Camille",
        "support_count": support,
        "tags": [],
    }
    defaults.update(kw)
    return Signal(**defaults)


async def ctx_for(locale: str = "fr", **digest: Any) -> Context:
    services = make_services(test_config(digest=digest) if digest else test_config())
    return await make_context(None, locale=locale, services=services)  # type: ignore[arg-type]


def plan_of(signals: list[Signal], total: int | None = None) -> DigestPlan:
    items = [DigestItem(s, s.support_count) for s in signals]
    return DigestPlan(START, END, items, total if total is not None else len(items))


def test_groups_most_supported_first_then_steepl_and_keep_the_ranking() -> None:
    items = [
        DigestItem(sig(1, "environnemental", 5), 5),
        DigestItem(sig(2, "social", 4), 4),
        DigestItem(sig(3, "environnemental", 2), 2),
        DigestItem(sig(4, "legal", 1), 1),
        DigestItem(sig(5, "politique", 1), 1),
        DigestItem(sig(6, "economique", 0), 0),
    ]
    order = ["social", "technologique", "economique", "environnemental", "politique", "legal"]
    groups = grouped(items, "categorie", order)
    # « les plus soutenus d'abord »: no group with 0 👍 before one with 1 👍; ties in STEEPL order.
    assert [g for g, _ in groups] == ["environnemental", "social", "politique", "legal", "economique"]
    assert [i.signal.id for i in groups[0][1]] == [1, 3]


async def test_french_digest_html_and_plain() -> None:
    ctx = await ctx_for()
    signals = [
        sig(
            1,
            "environnemental",
            5,
            why="Les communes littorales devront s'assurer elles-mêmes. Et plus encore.",
        ),
        sig(
            2,
            "social",
            0,
            url=None,
            observation="Des habitants quittent les zones inondables",
            author_id=None,
        ),
        sig(3, "environnemental", 2, title="<script>alert(1)</script>"),
    ]
    rich = render(ctx.services.translator("fr"), ctx, plan_of(signals, total=7), week="2026-W49")
    plain, html = rich.plain, rich.html
    assert plain.startswith("📡 Signaux faibles — digest de la semaine 49 (changement climatique)")
    assert "Du 23 novembre au 30 novembre\u00a0: 7 signaux partagés" in plain
    # « les plus soutenus d'abord »: Environnemental (5 👍) before Social (0 👍), though
    # STEEPL puts Social first; inside, most supported first.
    assert (
        plain.index("ENVIRONNEMENTAL")
        < plain.index("Signal 1")
        < plain.index("<script>")
        < plain.index("SOCIAL")
    )
    assert "• Signal 1 (https://exemple.fr/1) — 👍 5" in plain
    assert "  Les communes littorales devront s'assurer elles-mêmes." in plain  # one sentence
    assert "partagé par Camille · Hérault (34) · #1" in plain
    assert "partagé par un membre du réseau" in plain  # erased author
    assert "… et 4 autres\u202f: !signaux semaine" not in plain  # typography: colon gets NBSP
    assert "… et 4 autres\u00a0: !signaux semaine" in plain
    assert (
        '<a href="https://exemple.fr/1">Signal 1</a></b> (exemple.fr)' in html
    )  # the site, beside the title
    assert '<a href="https://matrix.to/#/@camille:example.org">Camille</a>' in html
    assert "&lt;script&gt;" in html and "<script>" not in html
    assert "<ul>" in html and "<li>" in html


async def test_english_digest_grouped_by_nature() -> None:
    ctx = await ctx_for("en", group_by="nature")
    signals = [sig(1, "social", 3, nature="rupture"), sig(2, "social", 1, nature="signal_faible")]
    rich = render(ctx.services.translator("en"), ctx, plan_of(signals), week="2026-W01")
    assert rich.plain.startswith("📡 Weak signals — digest of week 1 (changement climatique)")
    assert rich.plain.index("BREAK") < rich.plain.index("WEAK SIGNAL")  # 3 👍 before 1 👍
    assert "shared by Camille" in rich.plain
    assert "… and" not in rich.plain


async def test_empty_week_is_a_call_for_contributions() -> None:
    ctx = await ctx_for()
    rich = render(ctx.services.translator("fr"), ctx, plan_of([]), week="2026-W49")
    assert "pas de signal faible" in rich.plain and "!signal titre | lien" in rich.plain


def test_one_line() -> None:
    assert one_line("Première phrase assez longue. Deuxième.") == "Première phrase assez longue."
    long = "mot " * 80
    cut = one_line(long)
    assert len(cut) <= 160 and cut.endswith("…")


# --- catalogs ------------------------------------------------------------------------------
COMMANDS = Path(__file__).resolve().parents[2] / "commands"
CATALOGS = {
    "signals": COMMANDS / "locales",
    "digest": COMMANDS / "locales",
    "veille": COMMANDS / "veille" / "locales",
}


def _flat(table: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in table.items():
        key = f"{prefix}.{k}" if prefix else k
        if isinstance(v, dict) and not set(v) <= {"one", "other", "zero"}:
            out.update(_flat(v, key))
        else:
            out[key] = v
    return out


def _placeholders(value: Any) -> set[str]:
    texts = value.values() if isinstance(value, dict) else value if isinstance(value, list) else [value]
    return {name.split(":")[0] for t in texts for _, name, _, _ in Formatter().parse(t) if name}


@pytest.mark.parametrize("feature", sorted(CATALOGS))
def test_french_and_english_catalogs_match(feature: str) -> None:
    fr = _flat(tomllib.loads((CATALOGS[feature] / "fr" / f"{feature}.toml").read_text("utf-8")))
    en = _flat(tomllib.loads((CATALOGS[feature] / "en" / f"{feature}.toml").read_text("utf-8")))
    assert set(fr) == set(en)
    for key in fr:
        assert _placeholders(fr[key]) == _placeholders(en[key]), key


def test_a_signal_shown_to_others_says_the_site_its_link_leads_to() -> None:
    """In `!signaux` and `!signal 12` (and the digest above): a member's title cannot pass
    one site off as another."""
    from commands.signals import short_title

    line = short_title(
        sig(12, "social", 0, title="Rapport du GIEC", url="https://www.giec-officiel.example/r")
    )
    assert line.html.endswith("Rapport du GIEC</a> (giec-officiel.example)")
    assert "https://www.giec-officiel.example/r" in line.plain
