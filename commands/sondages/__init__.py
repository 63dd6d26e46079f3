"""Sondages: surveys on native Matrix polls (`!sondage`, `!vote`), anonymous surveys asked
in direct chats, the pulse (`!pouls`, recurring with `!pouls planifier`), the one reminder
before the end (`!rappels` turns every reminder of the bot off), and what surveys tell the
network's evaluation."""

from pathlib import Path

from bot.feature import Feature
from commands.sondages import commands, indicators, jobs
from commands.sondages.config import SondagesConfig

_HERE = Path(__file__).parent

FEATURE = Feature(
    "sondages",
    config=SondagesConfig,
    jobs=(jobs.setup,),
    personal_data=(commands.SURVEY_DATA,),
    catalog=_HERE / "locales",
    config_example=_HERE / "config.example.toml",
)

__all__ = ["FEATURE", "commands", "indicators", "jobs"]
