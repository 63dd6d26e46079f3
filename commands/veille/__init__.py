"""Veille: curated RSS/Atom feeds polled politely, their items that hold the network's
keywords queued for the animators (`!veille`), who turn one into a signal in one command
or drop it."""

from pathlib import Path

from bot.feature import Feature
from commands.veille import commands, jobs
from commands.veille.config import VeilleConfig

_HERE = Path(__file__).parent

FEATURE = Feature(
    "veille",
    config=VeilleConfig,
    jobs=(jobs.setup,),
    catalog=_HERE / "locales",
    config_example=_HERE / "config.example.toml",
)

__all__ = ["FEATURE", "commands", "jobs"]
