"""Annuaire: the member directory. `!profil` to see and edit one's own profile (or someone's
listed one), `!annuaire` to find members by words and filters, the contact book's import
and the directory's export on the command line (`import-contacts`, `export-directory`)."""

from pathlib import Path

from bot.feature import Feature
from commands.annuaire import commands, contacts
from commands.annuaire.data import PROFILE_DATA
from commands.annuaire.fields import DirectoryConfig

_HERE = Path(__file__).parent

FEATURE = Feature(
    "annuaire",
    config=DirectoryConfig,
    personal_data=(PROFILE_DATA,),
    catalog=_HERE / "locales",
    config_example=_HERE / "config.example.toml",
)

__all__ = ["FEATURE", "commands", "contacts"]
