"""Loading the features: the list at the composition root (`commands/features.py`, named
here, never imported statically, so the runtime depends on no feature), each declaration
read once per process (`bot.feature.Feature.load`)."""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.feature import Feature

COMPOSITION_ROOT = "commands.features"
_loaded: tuple[Feature, ...] | None = None


def declared_features() -> tuple[Feature, ...]:
    """The composition root's list, enabled or not."""
    return tuple(importlib.import_module(COMPOSITION_ROOT).FEATURES)


def load_features(features: Sequence[Feature] | None = None) -> tuple[Feature, ...]:
    global _loaded
    if _loaded is None:
        chosen = tuple(features) if features is not None else declared_features()
        _loaded = chosen  # set first: loading a feature may ask for the catalog
        for feature in chosen:
            if feature.enabled:
                feature.load()
    return _loaded
