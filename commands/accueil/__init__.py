"""Accueil: newcomers welcomed in the network's rooms (once per member and group of rooms,
a wave of arrivals in one message), the animators' `!accueil` to set the text, and the
onboarding in a direct chat that fills in the member's directory profile."""

from pathlib import Path

from bot.feature import Feature
from commands.accueil import commands, indicators, jobs, onboarding
from commands.accueil.config import AccueilConfig
from commands.accueil.data import WELCOME_DATA

_HERE = Path(__file__).parent

FEATURE = Feature(
    "accueil",
    config=AccueilConfig,
    jobs=(jobs.setup,),
    personal_data=(WELCOME_DATA,),
    catalog=_HERE / "locales",
    config_example=_HERE / "config.example.toml",
)

__all__ = ["FEATURE", "commands", "indicators", "jobs", "onboarding"]
