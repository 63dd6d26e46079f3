"""Scheduled announcements: once at a given moment, or at every occurrence of a
recurrence (« chaque lundi 9h », cron), posted exactly once per occurrence."""

from pathlib import Path

from bot.i18n import add_catalog_dir
from commands.annonces import commands, jobs

add_catalog_dir(Path(__file__).parent / "locales")

__all__ = ["commands", "jobs"]
