"""Webinars and meetings: announcements with an .ics file, sign-ups with a waiting list,
reminders, the agenda, and afterwards their recordings and materials."""

from pathlib import Path

from bot.i18n import add_catalog_dir
from commands.evenements import commands, indicators, jobs

add_catalog_dir(Path(__file__).parent / "locales")

__all__ = ["commands", "indicators", "jobs"]
