"""Général: `!aide` (the commands a person may use, from the registry), `!langue`, `!ping`,
and the runtime's share of a member's personal data."""

from pathlib import Path

from bot.feature import Feature
from commands.general import commands
from commands.general.data import RUNTIME_DATA

FEATURE = Feature("general", personal_data=(RUNTIME_DATA,), catalog=Path(__file__).parent / "locales")

__all__ = ["FEATURE", "commands"]
