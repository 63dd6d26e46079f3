"""Writing the directory: CSV that import reads back, vCard 4.0 escaped and folded."""

from __future__ import annotations

from dataclasses import dataclass, field

from commands.annuaire.contacts_csv import parse_contacts
from commands.annuaire.export import (
    escape_text,
    fold_line,
    matrix_uri,
    to_csv,
    to_vcard,
    unescape_text,
    unfold,
)
from commands.annuaire.fields import DirectoryConfig


@dataclass
class P:
    user_id: str
    name: str
    email: str | None = None
    structure: str | None = None
    kind: str | None = None
    role: str | None = None
    territories: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    bio: str | None = None

    @property
    def shown_name(self) -> str:
        return self.name


CAMILLE = P(
    "@camille.martin:matrix.org",
    "Camille Martin",
    "camille@laregion.fr",
    "Région Occitanie; direction de l'innovation, DINSIC",
    "Région",
    "Cheffe de projet",
    ["Haute-Garonne (31)", "Région"],
    ["prospective", "design des politiques publiques"],
    "Première ligne;\nseconde, avec \\ barre.",
)


def test_csv_is_read_back_by_the_import() -> None:
    other = P("@d:x.org", "Dominique", territories=[], tags=[])
    text = to_csv([CAMILLE, other])
    parsed = parse_contacts(text.encode("utf-8-sig"), DirectoryConfig())
    assert parsed.bad_rows == []
    a, b = parsed.contacts
    assert a.values() == {
        "name": CAMILLE.name,
        "email": CAMILLE.email,
        "structure": CAMILLE.structure,
        "kind": CAMILLE.kind,
        "role": CAMILLE.role,
        "territories": CAMILLE.territories,
        "tags": CAMILLE.tags,
        "bio": CAMILLE.bio,
    }
    assert (b.user_id, b.name, b.email, b.territories) == ("@d:x.org", "Dominique", None, ())


def test_vcard_escapes_text_values() -> None:
    assert escape_text("a,b;c\\d\ne") == "a\\,b\\;c\\\\d\\ne"
    assert unescape_text(escape_text("a,b;c\\d\ne")) == "a,b;c\\d\ne"
    lines = unfold(to_vcard([CAMILLE]))
    assert lines[:3] == ["BEGIN:VCARD", "VERSION:4.0", "KIND:individual"]
    assert lines[-1] == "END:VCARD"
    assert "FN:Camille Martin" in lines
    assert "ORG:Région Occitanie\\; direction de l'innovation\\, DINSIC" in lines
    assert "TITLE:Cheffe de projet" in lines
    assert "EMAIL;TYPE=work:camille@laregion.fr" in lines
    assert "IMPP;PREF=1:matrix:u/camille.martin:matrix.org" in lines
    assert "URL;TYPE=work:https://matrix.to/#/@camille.martin:matrix.org" in lines
    assert "CATEGORIES:prospective,design des politiques publiques" in lines
    note = next(line for line in lines if line.startswith("NOTE:"))
    assert unescape_text(note.removeprefix("NOTE:")) == CAMILLE.bio
    assert "\n" not in note


def test_vcard_lines_are_folded_at_75_octets_without_cutting_characters() -> None:
    long = P("@x:y.org", "É" * 100, bio="é" * 300)
    text = to_vcard([long])
    assert text.endswith("END:VCARD\r\n")
    physical = text.split("\r\n")[:-1]
    assert all(len(line.encode("utf-8")) <= 75 for line in physical)
    assert any(line.startswith(" ") for line in physical)
    assert f"FN:{'É' * 100}" in unfold(text)
    assert fold_line("short") == "short\r\n"


def test_matrix_uri_keeps_the_id_readable() -> None:
    assert matrix_uri("@a.b-c_d=e/f:example.org:8448") == "matrix:u/a.b-c_d=e/f:example.org:8448"
