"""Loading the feature packages: importing them registers their commands, hooks, forms,
config sections, catalogs and jobs."""

from __future__ import annotations

import importlib
import pkgutil
from types import ModuleType

FEATURE_PACKAGES = ("commands", "schedules")
_loaded = False


def _import_all(package_name: str) -> ModuleType:
    package = importlib.import_module(package_name)
    for mod in pkgutil.iter_modules(package.__path__):
        importlib.import_module(f"{package_name}.{mod.name}")
    return package


def load_features() -> None:
    global _loaded
    if _loaded:
        return
    for name in FEATURE_PACKAGES:
        _import_all(name)
    _loaded = True
