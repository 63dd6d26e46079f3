"""Locale catalogs (French first, English second) and the translator handlers use.

Catalogs are TOML files: `<dir>/<locale>/<anything>.toml`, nested tables flattened to dotted
keys. The runtime's catalog lives in `bot/locales`; each feature adds its own directory with
`add_catalog_dir`. A value is a string, a list of strings, or a plural table
(`one`/`other`, optional `zero`) chosen by the parameter `n`.

French typography is applied when the catalog is loaded: the space typed before « : ; ! ? »
and inside « » becomes the non-breaking space French requires, so catalog authors type a
plain space."""

from __future__ import annotations

import logging
import re
import string
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from bot.formatting import Rich, as_rich

log = logging.getLogger(__name__)

LOCALES: tuple[str, ...] = ("fr", "en")
DEFAULT_LOCALE = "fr"
PLURAL_FORMS = frozenset({"zero", "one", "other"})

NNBSP = "\u202f"  # espace fine insécable: before ; ! ?
NBSP = "\u00a0"  # espace insécable: before : and inside « »

_catalog_dirs: list[Path] = [Path(__file__).parent / "locales"]

# A space before high punctuation that ends a phrase (followed by a space, the end, a tag
# or a closing bracket). « !aide » is a command name, not punctuation, so it stays as typed.
_BEFORE_TIGHT = re.compile(r" ([;!?])(?=\s|$|<|\)|»)")
_BEFORE_COLON = re.compile(r" (:)(?=\s|$|<)")
_GUILLEMETS_OPEN = re.compile(r"« ")
_GUILLEMETS_CLOSE = re.compile(r" »")


def add_catalog_dir(path: Path) -> None:
    """Register a feature's locale directory (called at import by the feature package)."""
    if path not in _catalog_dirs:
        _catalog_dirs.append(path)


def french_typography(text: str) -> str:
    text = _BEFORE_TIGHT.sub(NNBSP + r"\1", text)
    text = _BEFORE_COLON.sub(NBSP + r"\1", text)
    text = _GUILLEMETS_OPEN.sub("«" + NBSP, text)
    return _GUILLEMETS_CLOSE.sub(NBSP + "»", text)


Message = str | list[str] | dict[str, str]


def _flatten(prefix: str, table: Mapping[str, Any], out: dict[str, Message], origin: Path) -> None:
    for key, value in table.items():
        full = f"{prefix}.{key}" if prefix else key
        if isinstance(value, dict):
            if value and set(value) <= PLURAL_FORMS and all(isinstance(v, str) for v in value.values()):
                out[full] = dict(value)
            else:
                _flatten(full, value, out, origin)
        elif isinstance(value, str | list):
            if full in out:
                raise ValueError(f"clé dupliquée {full!r} dans {origin}")
            out[full] = value
        else:
            raise ValueError(f"valeur non textuelle pour {full!r} dans {origin}")


def _typeset(locale: str, value: Message) -> Message:
    if locale != "fr":
        return value
    if isinstance(value, str):
        return french_typography(value)
    if isinstance(value, list):
        return [french_typography(v) for v in value]
    return {k: french_typography(v) for k, v in value.items()}


@dataclass
class Catalog:
    """All messages of all locales, loaded once per process."""

    messages: dict[str, dict[str, Message]] = field(default_factory=dict)

    @classmethod
    def load(cls, dirs: list[Path] | None = None) -> Catalog:
        catalog = cls({loc: {} for loc in LOCALES})
        for base in dirs or _catalog_dirs:
            for loc in LOCALES:
                for path in sorted((base / loc).glob("*.toml")):
                    flat: dict[str, Message] = {}
                    with path.open("rb") as fh:
                        _flatten("", tomllib.load(fh), flat, path)
                    for key, value in flat.items():
                        if key in catalog.messages[loc]:
                            raise ValueError(f"clé {key!r} définie deux fois ({path})")
                        catalog.messages[loc][key] = _typeset(loc, value)
        return catalog

    def translator(self, locale: str | None, tz: ZoneInfo | None = None) -> Translator:
        loc = locale if locale in self.messages else DEFAULT_LOCALE
        return Translator(self, loc, tz or ZoneInfo("Europe/Paris"))


_default: tuple[tuple[Path, ...], Catalog] | None = None


def default_catalog() -> Catalog:
    """The process-wide catalog, with every feature's directory (loading the features
    registers them); reloaded if a directory was added since."""
    global _default
    from bot.features import load_features

    load_features()
    dirs = tuple(_catalog_dirs)
    if _default is None or _default[0] != dirs:
        _default = (dirs, Catalog.load(list(dirs)))
    return _default[1]


class _Formatter(string.Formatter):
    pass


_formatter = _Formatter()


def plural_form(locale: str, n: int | float, forms: Mapping[str, str]) -> str:
    if n == 0 and "zero" in forms:
        return forms["zero"]
    # French treats 0 and 1 as singular; English only 1.
    singular = (0 <= n < 2) if locale == "fr" else n == 1
    return forms["one"] if singular and "one" in forms else forms["other"]


_QUOTES = (("«", "»"), ('"', '"'), ("“", "”"))


def _unquoted(text: str) -> str:
    """`text` without the quotes around it, when it is set between quotes already."""
    inner = text.strip()
    for opening, closing in _QUOTES:
        if len(inner) >= 2 and inner.startswith(opening) and inner.endswith(closing):
            return inner[len(opening) : -len(closing)].strip(" \u00a0\u202f")
    return text


@dataclass(frozen=True)
class Translator:
    """Messages of one locale. `rich` renders a key to plain text and HTML together; user
    values are escaped, dates are written the way the locale writes them."""

    catalog: Catalog
    locale: str
    tz: ZoneInfo

    def has(self, key: str) -> bool:
        return key in self.catalog.messages[self.locale]

    def raw(self, key: str) -> Message | None:
        value = self.catalog.messages[self.locale].get(key)
        if value is None:
            value = self.catalog.messages[DEFAULT_LOCALE].get(key)
        return value

    def list(self, key: str) -> list[str]:
        value = self.raw(key)
        return list(value) if isinstance(value, list) else []

    def template(self, key: str, params: Mapping[str, Any]) -> str:
        value = self.raw(key)
        if value is None:
            log.error("missing catalog key %s (%s)", key, self.locale)
            return key
        if isinstance(value, dict):
            return plural_form(self.locale, params.get("n", 0), value)
        if isinstance(value, list):
            return "\n".join(value)
        return value

    def rich(self, key: str, **params: Any) -> Rich:
        return self.render(self.template(key, params), params)

    def t(self, key: str, **params: Any) -> str:
        return self.rich(key, **params).plain

    def render(self, template: str, params: Mapping[str, Any]) -> Rich:
        out = Rich("", "")
        for literal, name, spec, conversion in _formatter.parse(template):
            if literal:
                out = out + Rich.template(literal)
            if name is None:
                continue
            if name not in params:
                log.error("missing parameter %s for template %r", name, template)
                out = out + Rich.text("{" + name + "}")
                continue
            value = params[name]
            if isinstance(value, str) and literal.rstrip(" \u00a0\u202f").endswith(("«", "“", '"')):
                value = _unquoted(value)  # « « design de services » »: the quotes typed go
            out = out + self.value(value, spec or "", conversion)
        return out

    def value(self, value: Any, spec: str = "", conversion: str | None = None) -> Rich:
        from bot import dates_format  # it uses the translator for names; import late

        if isinstance(value, Rich):
            return value
        if conversion == "k":  # `{field!k}`: the value is a catalog key, shown in this language
            return self.rich(str(value))
        if isinstance(value, datetime):
            return Rich.text(dates_format.format_datetime(value, self, spec or "datetime"))
        if isinstance(value, date):
            return Rich.text(dates_format.format_date(value, self, spec or "date"))
        if isinstance(value, bool):
            return Rich.text(self.t("common.yes" if value else "common.no"))
        if isinstance(value, int | float) and not spec:
            return Rich.text(self.number(value))
        if conversion == "r":
            value = repr(value)
        return as_rich(format(value, spec) if spec else value)

    def number(self, value: int | float) -> str:
        text = f"{value:,.1f}" if isinstance(value, float) else f"{value:,}"
        if self.locale == "fr":
            return text.replace(",", NNBSP).replace(".", ",")
        return text
