"""The composition root: every feature of the bot, in one list, and the only module that
imports them all. Adding a feature is one line here (and its package).

The order is the order of registration: the sources of `!mes-donnees`, the sections of
`config.example.toml`. Features still written as flat modules are declared here by the
modules that make them; a feature package declares itself (`FEATURE` in its
`__init__.py`)."""

from __future__ import annotations

from pathlib import Path

from bot.feature import Feature
from commands import accueil, annuaire, donnees, general, sondages, veille

_EXAMPLES = Path(__file__).parent / "examples"
_HERE = Path(__file__).parent

FEATURES: tuple[Feature, ...] = (
    Feature(
        "annonces", modules=("commands.annonces",), config_example=_HERE / "annonces" / "config.example.toml"
    ),
    Feature(
        "digest",
        modules=("commands.digest", "commands.digest_indicators", "schedules.digest"),
        config_example=_EXAMPLES / "digest.toml",
    ),
    Feature(
        "signaux",
        modules=("commands.signal_parsing", "commands.signals", "commands.signal_indicators"),
        config_example=_EXAMPLES / "signaux.toml",
    ),
    annuaire.FEATURE,
    Feature("evaluation", modules=("commands.evaluation",)),
    Feature(
        "evenements",
        modules=("commands.evenements",),
        config_example=_HERE / "evenements" / "config.example.toml",
    ),
    veille.FEATURE,
    general.FEATURE,
    donnees.FEATURE,
    Feature("ressources", modules=("commands.ressources",)),
    sondages.FEATURE,
    accueil.FEATURE,
)
