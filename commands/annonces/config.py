"""The `[annonces]` section: how late a missed scheduled announcement may still go out."""

from __future__ import annotations

from datetime import timedelta

from bot.config import Section, config_section
from bot.dates import Delay


@config_section("annonces")
class AnnouncementsConfig(Section):
    # An occurrence missed while the bot was down is posted when it comes back if it is
    # at most this late (« 1h », « 30min », « 2h »); later, it is skipped.
    grace: Delay = timedelta(hours=1)
