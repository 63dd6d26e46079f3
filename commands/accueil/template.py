"""The welcome's text, as pure functions: names joined the way a sentence says them
(« Alice, Bob et Chloé »), the animators' template checked and rendered."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from bot.errors import UserError
from bot.formatting import Rich, as_rich
from bot.i18n import french_typography
from bot.text import fold

MAX_TEMPLATE = 1000
# Placeholder names as animators type them (French first, English aliases) → canonical.
PLACEHOLDERS: dict[str, str] = {
    "nom": "nom",
    "noms": "nom",
    "name": "nom",
    "names": "nom",
    "reseau": "reseau",
    "network": "reseau",
    "salon": "salon",
    "room": "salon",
}
VALID = ("{nom}", "{reseau}", "{salon}")
_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")


# --- names -----------------------------------------------------------------------------------
def join_names(names: Sequence[Rich | str], last_sep: str) -> Rich:
    """« Alice », « Alice et Bob », « Alice, Bob et Chloé » (`last_sep` is « et », « and »)."""
    parts = [as_rich(n) for n in names]
    if not parts:
        return Rich("", "")
    if len(parts) == 1:
        return parts[0]
    out = parts[0]
    for p in parts[1:-1]:
        out = out + ", " + p
    return out + f" {last_sep} " + parts[-1]


# --- template --------------------------------------------------------------------------------
@dataclass(frozen=True)
class Piece:
    literal: str
    placeholder: str | None  # canonical name, or None at the end


def parse_template(text: str) -> list[Piece]:
    """Split a template into literal text and placeholders; raises a `UserError` that says
    what is wrong and how to write it."""
    value = text.strip()
    if not value:
        raise UserError("accueil.errors.empty", placeholders=", ".join(VALID))
    if len(value) > MAX_TEMPLATE:
        raise UserError("accueil.errors.too_long", limit=MAX_TEMPLATE, length=len(value))
    pieces: list[Piece] = []
    pos = 0
    for m in _PLACEHOLDER.finditer(value):
        literal = value[pos : m.start()]
        _check_braces(literal)
        name = PLACEHOLDERS.get(fold(m.group(1).strip()))
        if name is None:
            raise UserError(
                "accueil.errors.unknown_placeholder",
                name="{" + m.group(1) + "}",
                placeholders=", ".join(VALID),
            )
        pieces.append(Piece(literal, name))
        pos = m.end()
    tail = value[pos:]
    _check_braces(tail)
    pieces.append(Piece(tail, None))
    if not any(p.placeholder == "nom" for p in pieces):
        raise UserError("accueil.errors.no_name")
    return pieces


def _check_braces(literal: str) -> None:
    if "{" in literal or "}" in literal:
        raise UserError("accueil.errors.brace", placeholders=", ".join(VALID))


def check_template(text: str) -> str:
    """The template as it will be stored (trimmed), if valid."""
    parse_template(text)
    return text.strip()


def render_template(text: str, values: Mapping[str, Rich | str], *, french: bool = True) -> Rich:
    """The template with its placeholders filled. Animators' text is escaped (it is user
    text); French spacing before « : ; ! ? » is applied as in the catalogs."""
    out = Rich("", "")
    for piece in parse_template(text):
        if piece.literal:
            out = out + Rich.text(french_typography(piece.literal) if french else piece.literal)
        if piece.placeholder is not None:
            out = out + as_rich(values.get(piece.placeholder, ""))
    return out
