"""Données: personal data (RGPD). `!mes-donnees` sends a member everything the bot keeps
about them, as a JSON file in their direct chat; `!oublier-moi`, once confirmed, erases
it all. Each feature declares its own share (`Feature(personal_data=...)`)."""

from pathlib import Path

from bot.feature import Feature
from commands.donnees import commands

FEATURE = Feature("donnees", catalog=Path(__file__).parent / "locales")

__all__ = ["FEATURE", "commands"]
