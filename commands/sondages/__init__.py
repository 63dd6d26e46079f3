"""Sondages: surveys on native Matrix polls (`!sondage`, `!vote`), anonymous surveys asked
in direct chats, the pulse (`!pouls`, recurring with `!pouls planifier`), the one reminder
before the end (`!rappels` turns every reminder of the bot off), and what surveys tell the
network's evaluation."""

from pathlib import Path

from bot.i18n import add_catalog_dir
from commands.sondages import commands, indicators, jobs

add_catalog_dir(Path(__file__).parent / "locales")

__all__ = ["commands", "indicators", "jobs"]
