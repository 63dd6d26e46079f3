"""Évaluation: the network's embedded evaluation — `!evaluation` (`!stats`) shows every
feature's indicators over a period with their trend, and a chart; `oasis-bot
export-evaluation` writes them for the governance's reports. It reads the indicators the
features declare (`bot.indicators`) and knows none of them."""

from pathlib import Path

from bot.i18n import add_catalog_dir
from commands.evaluation import commands, export

add_catalog_dir(Path(__file__).parent / "locales")

__all__ = ["commands", "export"]
