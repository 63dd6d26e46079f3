"""The features: one package per feature (`commands/sondages/`), listed in
`commands/features.py`. The features still written as flat modules keep their messages
in `commands/locales/<locale>/<feature>.toml`."""

from pathlib import Path

from bot.i18n import add_catalog_dir

add_catalog_dir(Path(__file__).parent / "locales")
