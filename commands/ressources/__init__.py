"""The resource library: recordings and materials of the network's events, the practices,
tools, methods and experience reports members share, and the published digests, searched
together."""

from pathlib import Path

from bot.i18n import add_catalog_dir
from commands.ressources import commands

add_catalog_dir(Path(__file__).parent / "locales")

__all__ = ["commands"]
