"""The directory's configuration (`[annuaire]`) and the profile fields: their names as
members type them, and one validating parser per field. `!profil <champ> <valeur>`, the
onboarding conversation and the contact-book import all go through these parsers, so a
value is accepted or refused the same way everywhere, with the same French message."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydantic import Field

from bot.config import Config, Section
from bot.errors import UserError
from bot.text import fold
from commands import directory_vocab as vocab

MAX_BIO = 500
MAX_NAME = 120
MAX_STRUCTURE = 200
MAX_ROLE = 200


class DirectoryConfig(Section):
    # Kinds of structure offered, each with the words that name it (matched ignoring case
    # and accents; « caf » → Organisme social).
    kinds: dict[str, list[str]] = Field(default_factory=lambda: dict(vocab.DEFAULT_KINDS))
    territories: list[str] = Field(default_factory=lambda: list(vocab.DEFAULT_TERRITORIES))
    # Results per page of `!annuaire` (then `!annuaire suite`).
    page_size: int = Field(default=8, ge=1, le=30)


def directory_settings(config: Config) -> DirectoryConfig:
    return config.section(DirectoryConfig)


@dataclass(frozen=True)
class ProfileField:
    """A profile field: its attribute on `Profile`, the names members type for it (French
    first), and its parser."""

    attr: str
    names: tuple[str, ...]
    parse: Callable[[str, DirectoryConfig], Any]


def _text(limit: int, attr: str) -> Callable[[str, DirectoryConfig], str]:
    # Errors name the field as the profile shows it (« Présentation »), in the reader's language.
    key = f"profil.fields.{attr}"

    def parse(raw: str, _settings: DirectoryConfig) -> str:
        value = " ".join(raw.split())
        if not value:
            raise UserError("profil.errors.empty", field=key)
        if len(value) > limit:
            raise UserError("profil.errors.too_long", field=key, limit=limit, length=len(value))
        return value

    return parse


def parse_kind(raw: str, settings: DirectoryConfig) -> str:
    found = vocab.find_kind(raw, settings.kinds)
    if found is None:
        raise UserError("profil.errors.bad_kind", value=raw.strip(), choices=" · ".join(settings.kinds))
    return found


def parse_territories(raw: str, settings: DirectoryConfig) -> list[str]:
    found, unknown = vocab.find_territories(raw, settings.territories)
    if unknown or not found:
        raise UserError(
            "profil.errors.bad_territory",
            value=", ".join(unknown) or raw.strip(),
            choices=" · ".join(settings.territories),
        )
    return found


def parse_tags(raw: str, _settings: DirectoryConfig) -> list[str]:
    tags = vocab.normalize_tags(raw)
    if not tags:
        raise UserError("profil.errors.empty", field="profil.fields.tags")
    if len(vocab.split_list(raw)) > vocab.MAX_TAGS:
        raise UserError("profil.errors.too_many_tags", limit=vocab.MAX_TAGS)
    return tags


def parse_bio(raw: str, settings: DirectoryConfig) -> str:
    value = raw.strip()
    if not value:
        raise UserError("profil.errors.empty", field="profil.fields.bio")
    if len(value) > MAX_BIO:
        raise UserError("profil.errors.too_long", field="profil.fields.bio", limit=MAX_BIO, length=len(value))
    return value


YES = {"oui", "o", "yes", "y", "visible", "public", "publique", "ok", "d'accord", "daccord"}
NO = {"non", "n", "no", "masque", "masquee", "cache", "cachee", "hidden", "prive", "privee"}


def yes_or_no(raw: str) -> bool | None:
    """« oui » → True, « non » → False (and their variants), anything else → None."""
    typed = fold(raw.strip().rstrip(".!"))
    return True if typed in YES else False if typed in NO else None


def parse_visibility(raw: str, _settings: DirectoryConfig) -> bool:
    answer = yes_or_no(raw)
    if answer is None:
        raise UserError("profil.errors.bad_visibility", value=raw.strip())
    return answer


FIELDS: tuple[ProfileField, ...] = (
    ProfileField("name", ("nom", "name"), _text(MAX_NAME, "name")),
    ProfileField(
        "structure",
        ("structure", "employeur", "organisation", "organization", "employer"),
        _text(MAX_STRUCTURE, "structure"),
    ),
    ProfileField("kind", ("type", "type-structure", "type_structure", "typestructure", "kind"), parse_kind),
    ProfileField("role", ("fonction", "poste", "metier", "role", "job", "position"), _text(MAX_ROLE, "role")),
    ProfileField(
        "territories",
        ("territoire", "territoires", "departement", "territory", "territories"),
        parse_territories,
    ),
    ProfileField(
        "tags",
        ("competences", "competence", "sujets", "sujet", "tags", "tag", "skills", "topics"),
        parse_tags,
    ),
    ProfileField("bio", ("presentation", "bio", "description", "about"), parse_bio),
)
_BY_NAME = {fold(n): f for f in FIELDS for n in f.names}


def field_named(name: str) -> ProfileField | None:
    """The field a member means by `name` (« compétences », « Territoire », « bio »)."""
    return _BY_NAME.get(fold(name.strip().rstrip(":")))


def field_names() -> str:
    """The primary (French) field names, for error messages and help."""
    return ", ".join(f.names[0] for f in FIELDS)
