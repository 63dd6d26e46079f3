"""Reading the network's contact book: a CSV file as spreadsheets export it (UTF-8 with
or without BOM, or Latin-1/CP1252; `;` or `,` separated; French headers written any way)
turned into validated contacts, or bad rows with their line number and what is wrong.

Pure: no database. Every value goes through the same parsers as `!profil`
(`commands.annuaire.fields`), so a value refused in chat is refused here, with the same
message. Problems are catalog keys with their parameters; the caller words them."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from bot.csvfile import typed_cell
from bot.errors import UserError
from bot.text import fold
from commands.annuaire.fields import DirectoryConfig, field_named

MAX_EMAIL = 320
SEPARATORS = (";", ",", "\t")

# Header names as people write them, folded (see `header_key`), for each column.
HEADERS: dict[str, tuple[str, ...]] = {
    "name": (
        "nom",
        "nom complet",
        "nom et prenom",
        "nom prenom",
        "prenom nom",
        "prenom et nom",
        "name",
        "full name",
    ),
    "first_name": ("prenom", "first name", "firstname", "given name"),
    "email": (
        "courriel",
        "e mail",
        "email",
        "mail",
        "adresse mail",
        "adresse e mail",
        "adresse email",
        "adresse electronique",
        "adresse courriel",
    ),
    "structure": ("structure", "employeur", "organisation", "organisme", "organization", "employer"),
    "kind": (
        "type de structure",
        "type structure",
        "type",
        "type d employeur",
        "categorie de structure",
        "kind",
        "structure type",
    ),
    "role": ("fonction", "poste", "metier", "role", "job", "job title", "titre"),
    "territories": (
        "territoire",
        "territoires",
        "departement",
        "departements",
        "territoire s",
        "departement s",
        "territory",
        "territories",
    ),
    "tags": (
        "competences",
        "competence",
        "sujets",
        "sujet",
        "competences sujets",
        "competences et sujets",
        "thematiques",
        "tags",
        "skills",
        "topics",
    ),
    "bio": ("presentation", "presentation courte", "bio", "description", "about"),
    "matrix_id": (
        "identifiant matrix",
        "matrix",
        "matrix id",
        "id matrix",
        "tchap",
        "identifiant tchap",
        "compte tchap",
        "compte matrix",
        "adresse matrix",
    ),
}
_COLUMN_OF = {h: column for column, names in HEADERS.items() for h in names}
# The profile field each column is validated with (`commands.annuaire.fields.FIELDS`).
_FIELD_OF = {
    "name": "nom",
    "structure": "structure",
    "kind": "type",
    "role": "fonction",
    "territories": "territoire",
    "tags": "competences",
    "bio": "presentation",
}


def _parser(field_name: str) -> Callable[[str, DirectoryConfig], Any]:
    found = field_named(field_name)
    assert found is not None, field_name
    return found.parse


_PARSERS = {column: _parser(name) for column, name in _FIELD_OF.items()}

_EMAIL = re.compile(r"^[^@\s,;<>\"]+@[^@\s,;<>\"]+\.[A-Za-z0-9-]{2,}$")
# @localpart:server — the server a host name or IP, with an optional port.
_MATRIX_ID = re.compile(r"^@[^\s:@]+:(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$")
_MATRIX_TO = re.compile(r"^https?://matrix\.to/#/(@[^?]+)")


@dataclass(frozen=True)
class Contact:
    """A valid row: the profile it makes (field names are `Profile` attributes)."""

    line: int
    user_id: str
    name: str
    email: str | None = None
    structure: str | None = None
    kind: str | None = None
    role: str | None = None
    territories: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    bio: str | None = None

    def values(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "email": self.email,
            "structure": self.structure,
            "kind": self.kind,
            "role": self.role,
            "territories": list(self.territories),
            "tags": list(self.tags),
            "bio": self.bio,
        }


@dataclass(frozen=True)
class Problem:
    """What is wrong with a value: a catalog key and its parameters."""

    key: str
    params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class BadRow:
    line: int
    label: str  # the row's name or Matrix ID as written, to find it in the file
    problems: tuple[Problem, ...]


@dataclass
class ParsedFile:
    contacts: list[Contact]
    bad_rows: list[BadRow]
    encoding: str
    separator: str
    columns: dict[str, str]  # our column → the header as written
    ignored_headers: list[str]


class ContactFileError(UserError):
    """The file as a whole cannot be read (no header, a required column missing…)."""


def header_key(header: str) -> str:
    """« Type de structure », « E-mail », « Département(s) » → folded, punctuation as spaces."""
    return " ".join(re.sub(r"[^a-z0-9]+", " ", fold(header.strip().lstrip("\ufeff"))).split())


def decode(data: bytes) -> tuple[str, str]:
    """The text and its encoding: UTF-8 (a BOM is dropped), else CP1252 (what Excel
    writes on Windows; a superset of Latin-1 for letters), else Latin-1."""
    try:
        return data.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252"), "cp1252"
    except UnicodeDecodeError:
        return data.decode("latin-1"), "latin-1"


def sniff_separator(text: str) -> str:
    """The separator of the header line: the most frequent of `;`, `,` and tab outside
    quotes (`;` wins ties: French spreadsheets use it, and commas occur in names)."""
    header = next((line for line in text.splitlines() if line.strip()), "")
    unquoted = re.sub(r'"[^"]*"', "", header)
    counts = {sep: unquoted.count(sep) for sep in SEPARATORS}
    best = max(SEPARATORS, key=lambda s: counts[s])
    return best if counts[best] else ";"


def map_headers(headers: Sequence[str]) -> tuple[dict[str, int], list[str]]:
    """Our column → its index, and the headers not understood. The first column of a
    name wins; when a « Prénom » column exists, « Nom » is the family name."""
    found: dict[str, int] = {}
    ignored: list[str] = []
    for i, header in enumerate(headers):
        column = _COLUMN_OF.get(header_key(header))
        if column is None:
            if header.strip():
                ignored.append(header.strip())
        elif column not in found:
            found[column] = i
    return found, ignored


def parse_matrix_id(raw: str) -> str | None:
    """« @camille.martin:agent.tchap.gouv.fr », or a matrix.to link to it; None if it
    does not look like a Matrix ID."""
    value = raw.strip()
    link = _MATRIX_TO.match(value)
    if link:
        value = link.group(1)
    return value if _MATRIX_ID.match(value) else None


def parse_email(raw: str) -> str | None:
    value = raw.strip().removeprefix("mailto:")
    return value if len(value) <= MAX_EMAIL and _EMAIL.match(value) else None


def parse_contacts(data: bytes, settings: DirectoryConfig) -> ParsedFile:
    """Read a contact file. Raises ContactFileError when the file as a whole is unusable;
    otherwise every row is a contact or a bad row (blank rows are skipped). A Matrix ID
    met again further down makes that later row bad: the file must say one thing."""
    text, encoding = decode(data)
    # A contact book repeats its kinds, territories and tags on every row: each distinct
    # value is parsed once (the vocabulary matching is the costly part).
    memo: dict[tuple[str, str], Any] = {}
    separator = sniff_separator(text)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=separator)
    headers: list[str] | None = None
    contacts: list[Contact] = []
    bad: list[BadRow] = []
    seen: dict[str, int] = {}
    columns: dict[str, int] = {}
    ignored: list[str] = []
    start = 1
    try:
        for row in reader:
            line, start = start, reader.line_num + 1
            if not any(cell.strip() for cell in row):
                continue
            if headers is None:
                headers = row
                columns, ignored = map_headers(headers)
                _check_columns(columns, headers)
                continue
            contact, problems = _row(row, columns, line, settings, memo)
            if contact is not None and contact.user_id in seen:
                problems.append(Problem("contacts.errors.duplicate", {"first": seen[contact.user_id]}))
            if problems:
                bad.append(BadRow(line, _label(row, columns), tuple(problems)))
            elif contact is not None:
                seen[contact.user_id] = line
                contacts.append(contact)
    except csv.Error as exc:
        raise ContactFileError("contacts.errors.unreadable", line=reader.line_num, detail=str(exc)) from None
    if headers is None:
        raise ContactFileError("contacts.errors.empty_file")
    return ParsedFile(
        contacts,
        bad,
        encoding,
        separator,
        {c: headers[i].strip() for c, i in columns.items()},
        ignored,
    )


def _check_columns(columns: dict[str, int], headers: Sequence[str]) -> None:
    missing = []
    if "name" not in columns:
        missing.append("Nom")
    if "matrix_id" not in columns:
        missing.append("Identifiant Matrix")
    if missing:
        raise ContactFileError(
            "contacts.errors.missing_columns",
            missing=", ".join(missing),
            n=len(missing),
            found=" ; ".join(h.strip() for h in headers if h.strip()),
        )


def _cell(row: Sequence[str], columns: dict[str, int], column: str) -> str:
    i = columns.get(column)
    return typed_cell(row[i].strip()) if i is not None and i < len(row) else ""


def _label(row: Sequence[str], columns: dict[str, int]) -> str:
    name = " ".join(p for p in (_cell(row, columns, "first_name"), _cell(row, columns, "name")) if p)
    return name or _cell(row, columns, "matrix_id") or _cell(row, columns, "email")


def _identity(
    row: Sequence[str], columns: dict[str, int], problems: list[Problem]
) -> tuple[str | None, str | None]:
    """The row's Matrix ID (required) and e-mail (optional), their problems added."""
    raw_id = _cell(row, columns, "matrix_id")
    user_id = parse_matrix_id(raw_id)
    if not raw_id:
        problems.append(Problem("contacts.errors.no_matrix_id"))
    elif user_id is None:
        problems.append(Problem("contacts.errors.bad_matrix_id", {"value": raw_id}))
    raw_email = _cell(row, columns, "email")
    email = parse_email(raw_email) if raw_email else None
    if raw_email and email is None:
        problems.append(Problem("contacts.errors.bad_email", {"value": raw_email}))
    return user_id, email


def _row(
    row: Sequence[str],
    columns: dict[str, int],
    line: int,
    settings: DirectoryConfig,
    memo: dict[tuple[str, str], Any],
) -> tuple[Contact | None, list[Problem]]:
    problems: list[Problem] = []
    values: dict[str, Any] = {}

    def check(column: str, raw: str, parse: Callable[[str, DirectoryConfig], Any]) -> None:
        key = (column, raw)
        if key not in memo:
            try:
                memo[key] = parse(raw, settings)
            except UserError as err:
                memo[key] = Problem(err.key, dict(err.params))
        value = memo[key]
        if isinstance(value, Problem):
            problems.append(value)
        else:
            values[column] = value

    name = " ".join(p for p in (_cell(row, columns, "first_name"), _cell(row, columns, "name")) if p)
    for column, parse in _PARSERS.items():
        raw = name if column == "name" else _cell(row, columns, column)
        if raw or column == "name":  # the name is required, the rest optional
            check(column, raw, parse)
    user_id, email = _identity(row, columns, problems)
    if problems or user_id is None:
        return None, problems
    return (
        Contact(
            line=line,
            user_id=user_id,
            name=values["name"],
            email=email,
            structure=values.get("structure"),
            kind=values.get("kind"),
            role=values.get("role"),
            territories=tuple(values.get("territories", ())),
            tags=tuple(values.get("tags", ())),
            bio=values.get("bio"),
        ),
        [],
    )
