"""All models. Importing this package registers every table on `Base.metadata`; each
feature's models live in their own module here."""

from __future__ import annotations

import importlib
import pkgutil

from storage.base import Base

for _mod in pkgutil.iter_modules(__path__):
    importlib.import_module(f"{__name__}.{_mod.name}")

__all__ = ["Base"]
