"""Feature modules: one per feature family. Importing a module registers its commands,
hooks and forms (see bot.features.load_features); their messages live in
`commands/locales/<locale>/<feature>.toml`."""

from pathlib import Path

from bot.i18n import add_catalog_dir

add_catalog_dir(Path(__file__).parent / "locales")
