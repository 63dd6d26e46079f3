"""What a feature declares to the runtime: `Feature(...)`, one per feature package.

A feature has one French name, used everywhere: its package (`commands/<name>/`), its
config section (`[<name>]`), its catalog keys (`<name>.…`), its personal-data source and
its Alembic branch. The runtime reads the declaration: it registers the config model,
the catalogs, the job sources and the personal data, and puts the feature's fragment in
`config.example.toml`. Nothing of the feature is imported by the runtime: the list of
features lives at the composition root (`commands/features.py`), the only module that
imports them all. A repository needs no declaration: `repos.of(SurveyRepository)` gives
it over the unit of work's session.

    python -m bot.feature > config.example.toml    the example, from the features' parts"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from bot.config import Section, config_section
from bot.i18n import add_catalog_dir
from bot.registry import REGISTRY, PersonalDataSource
from bot.scheduler import JobSource, job_source

CORE_EXAMPLE = Path(__file__).parent / "config.example.toml"


@dataclass(frozen=True)
class Feature:
    name: str
    # Modules imported when the feature is loaded: their decorators declare the
    # commands, hooks, forms, indicators and command-line subcommands.
    modules: tuple[str, ...] = ()
    # The `[name]` section's model, if the feature has settings.
    config: type[Section] | None = None
    # Functions that (re)create the feature's jobs from the database at start.
    jobs: tuple[JobSource, ...] = ()
    # The feature's share of a member's data, for `!mes-donnees` and `!oublier-moi`.
    personal_data: tuple[PersonalDataSource, ...] = ()
    # `<dir>/<locale>/*.toml`: the feature's texts.
    catalog: Path | None = None
    # The feature's part of `config.example.toml` (its section, commented).
    config_example: Path | None = None
    # False: the feature is not loaded at all (no command, no job, no section).
    enabled: bool = True

    def load(self) -> None:
        for module in self.modules:
            importlib.import_module(module)
        if self.catalog is not None:
            add_catalog_dir(self.catalog)
        if self.config is not None:
            if self.config.section_name not in ("", self.name):
                raise ValueError(f"feature {self.name}: its section is [{self.config.section_name}]")
            config_section(self.name)(self.config)
        for source in self.jobs:
            job_source(source)
        for data in self.personal_data:
            REGISTRY.personal_data.append(data)


def config_example(features: Sequence[Feature]) -> str:
    """`config.example.toml`: the runtime's sections, then each enabled feature's, in the
    order of the list."""
    parts = [CORE_EXAMPLE.read_text(encoding="utf-8")]
    parts += [
        f.config_example.read_text(encoding="utf-8") for f in features if f.enabled and f.config_example
    ]
    return "\n".join(p.strip("\n") + "\n" for p in parts)


if __name__ == "__main__":
    from bot.features import declared_features

    sys.stdout.write(config_example(declared_features()))
