"""Writing the directory out: CSV (the headers `import-contacts` reads, so an export can be
imported again) and vCard 4.0 (RFC 6350) for address books. Pure functions over profiles.

vCard is written by hand: a contact is a dozen lines, and the two rules that matter —
escaping text values (3.4) and folding lines at 75 octets without cutting a UTF-8
character (3.2) — fit in a few tested lines, where a library would be a dependency
for the operator to keep up."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Protocol
from urllib.parse import quote

from bot import csvfile

# In the order written; each is a header `commands.annuaire.contacts_csv` recognises.
CSV_HEADERS = (
    "Nom",
    "Courriel",
    "Structure",
    "Type de structure",
    "Fonction",
    "Territoire",
    "Compétences",
    "Présentation",
    "Identifiant Matrix",
)
LIST_SEPARATOR = ", "  # territories and tags inside one cell (neither contains a comma)
MAX_LINE = 75  # octets, CRLF excluded (RFC 6350 3.2)


class ProfileLike(Protocol):
    """What the writers read of a profile (`storage.models.directory.Profile`)."""

    @property
    def user_id(self) -> str: ...
    @property
    def shown_name(self) -> str: ...
    @property
    def email(self) -> str | None: ...
    @property
    def structure(self) -> str | None: ...
    @property
    def kind(self) -> str | None: ...
    @property
    def role(self) -> str | None: ...
    @property
    def territories(self) -> list[str]: ...
    @property
    def tags(self) -> list[str]: ...
    @property
    def bio(self) -> str | None: ...


# --- CSV ----------------------------------------------------------------------------


def to_csv(profiles: Iterable[ProfileLike]) -> str:
    """`;`-separated, every field quoted when needed (newlines in a bio stay inside one
    cell), no cell a spreadsheet would run (`bot.csvfile`). Write it with a BOM
    (`utf-8-sig`) so spreadsheets read the accents right."""
    rows: list[Sequence[object]] = [CSV_HEADERS]
    for p in profiles:
        rows.append(
            [
                p.shown_name,
                p.email or "",
                p.structure or "",
                p.kind or "",
                p.role or "",
                LIST_SEPARATOR.join(p.territories or []),
                LIST_SEPARATOR.join(p.tags or []),
                p.bio or "",
                p.user_id,
            ]
        )
    return csvfile.to_csv(rows)


# --- vCard ----------------------------------------------------------------------------


def escape_text(value: str) -> str:
    """A TEXT value (RFC 6350 3.4): backslash, comma, semicolon and newlines escaped."""
    value = value.replace("\\", "\\\\").replace(",", "\\,").replace(";", "\\;")
    return value.replace("\r\n", "\\n").replace("\r", "\\n").replace("\n", "\\n")


def fold_line(line: str) -> str:
    """Fold a content line into CRLF-terminated lines of at most 75 octets, the
    continuations starting with one space, never inside a UTF-8 character."""
    out: list[str] = []
    current: list[str] = []
    size = 0
    for ch in line:
        width = len(ch.encode("utf-8"))
        limit = MAX_LINE if not out else MAX_LINE - 1  # a continuation's space counts
        if size + width > limit:
            out.append("".join(current))
            current, size = [], 0
        current.append(ch)
        size += width
    out.append("".join(current))
    return out[0] + "\r\n" + "".join(f" {part}\r\n" for part in out[1:])


def matrix_uri(user_id: str) -> str:
    """`matrix:u/alice:example.org` (the Matrix URI scheme) for `@alice:example.org`."""
    return "matrix:u/" + quote(user_id.removeprefix("@"), safe=":._-=/+~")


def matrix_to(user_id: str) -> str:
    return "https://matrix.to/#/" + quote(user_id, safe="@:._-=/+~")


def vcard(p: ProfileLike) -> str:
    lines = ["BEGIN:VCARD", "VERSION:4.0", "KIND:individual", f"FN:{escape_text(p.shown_name)}"]
    if p.structure:
        lines.append(f"ORG:{escape_text(p.structure)}")  # one component: the organisation
    if p.role:
        lines.append(f"TITLE:{escape_text(p.role)}")
    if p.email:
        lines.append(f"EMAIL;TYPE=work:{escape_text(p.email)}")
    lines.append(f"IMPP;PREF=1:{matrix_uri(p.user_id)}")
    lines.append(f"URL;TYPE=work:{matrix_to(p.user_id)}")
    if p.tags:
        lines.append("CATEGORIES:" + ",".join(escape_text(t) for t in p.tags))
    if p.bio:
        lines.append(f"NOTE:{escape_text(p.bio)}")
    if p.kind:
        lines.append(f"X-OASIS-TYPE-STRUCTURE:{escape_text(p.kind)}")
    if p.territories:
        lines.append("X-OASIS-TERRITOIRE:" + ",".join(escape_text(t) for t in p.territories))
    lines.append("END:VCARD")
    return "".join(fold_line(line) for line in lines)


def to_vcard(profiles: Iterable[ProfileLike]) -> str:
    return "".join(vcard(p) for p in profiles)


def unfold(text: str) -> list[str]:
    """The content lines of a vCard text (for readers and tests): CRLF + space removed."""
    return [line for line in text.replace("\r\n ", "").split("\r\n") if line]


def unescape_text(value: str) -> str:
    out: list[str] = []
    chars: Sequence[str] = value
    i = 0
    while i < len(chars):
        ch = chars[i]
        if ch == "\\" and i + 1 < len(chars):
            nxt = chars[i + 1]
            out.append("\n" if nxt in "nN" else nxt)
            i += 2
        else:
            out.append(ch)
            i += 1
    return "".join(out)
