"""Reading the contact book: encodings, separators, headers, bad rows."""

from __future__ import annotations

import pytest

from commands.annuaire.contacts_csv import (
    ContactFileError,
    decode,
    header_key,
    parse_contacts,
    sniff_separator,
)
from commands.annuaire.fields import DirectoryConfig

SETTINGS = DirectoryConfig()
HEADER = "Nom;Courriel;Structure;Type de structure;Territoire;Identifiant Matrix"


def parse(text: str, encoding: str = "utf-8"):  # type: ignore[no-untyped-def]
    return parse_contacts(text.encode(encoding), SETTINGS)


def test_a_plain_file_gives_validated_contacts() -> None:
    parsed = parse(
        HEADER + "\n"
        "Camille Martin;camille.martin@laregion.fr;Région Occitanie;region;Région;@camille:matrix.org\n"
        "Dominique Durand;;CAF de la Haute-Garonne;CAF;31, 34;@dom:agent.tchap.gouv.fr\n"
    )
    assert parsed.bad_rows == []
    camille, dominique = parsed.contacts
    assert (camille.name, camille.email, camille.kind, camille.territories) == (
        "Camille Martin",
        "camille.martin@laregion.fr",
        "Région",
        ("Région",),
    )
    assert camille.user_id == "@camille:matrix.org"
    assert dominique.kind == "Organisme social"
    assert dominique.territories == ("Haute-Garonne (31)", "Hérault (34)")
    assert dominique.email is None
    assert (camille.line, dominique.line) == (2, 3)


def test_utf8_bom_and_latin1_accents() -> None:
    text = HEADER + "\nHélène Élie;h@x.fr;Mairie de Sète;commune;Hérault;@helene:x.org\n"
    with_bom = parse_contacts("\ufeff".encode() + text.encode("utf-8"), SETTINGS)
    latin = parse_contacts(text.encode("cp1252"), SETTINGS)
    assert with_bom.encoding == "utf-8" and latin.encoding == "cp1252"
    for parsed in (with_bom, latin):
        assert parsed.columns["name"] == "Nom"  # the BOM is not part of the first header
        (c,) = parsed.contacts
        assert (c.name, c.structure, c.territories) == ("Hélène Élie", "Mairie de Sète", ("Hérault (34)",))
    # « Œ » and « ’ » exist in CP1252, not in Latin-1: what Excel on Windows writes.
    assert decode("Cœur d’Occitanie".encode("cp1252")) == ("Cœur d’Occitanie", "cp1252")


def test_comma_separator_and_quoted_fields_with_separators_and_newlines() -> None:
    parsed = parse(
        "Nom,Courriel,Compétences,Présentation,Identifiant Matrix\n"
        '"Martin, Camille",c@x.fr,"prospective, design",'
        '"Première ligne\nseconde; avec ""guillemets""",@c:x.org\n'
        "Claude Petit,claude@x.fr,,,@claude:x.org\n"
    )
    assert parsed.separator == ","
    first, second = parsed.contacts
    assert first.name == "Martin, Camille"
    assert first.tags == ("prospective", "design")
    assert first.bio == 'Première ligne\nseconde; avec "guillemets"'
    assert second.line == 4  # the quoted newline made row 2 two lines long


def test_sniffing_prefers_the_header_separator() -> None:
    assert sniff_separator("Nom;Courriel\nMartin, Camille;c@x.fr") == ";"
    assert sniff_separator("Nom,Courriel,Matrix\n") == ","
    assert sniff_separator("Nom\tMatrix\n") == "\t"
    assert sniff_separator('"Nom; complet",Matrix\n') == ","


@pytest.mark.parametrize(
    ("header", "column"),
    [
        ("COURRIEL", "email"),
        ("E-mail", "email"),
        ("Adresse mail", "email"),
        ("Employeur", "structure"),
        ("type de structure", "kind"),
        ("Département(s)", "territories"),
        ("TERRITOIRE", "territories"),
        ("Identifiant Matrix", "matrix_id"),
        ("Tchap", "matrix_id"),
        ("Compétences", "tags"),
        ("Sujets", "tags"),
        ("Présentation", "bio"),
        ("Fonction", "role"),
    ],
)
def test_french_headers_in_any_case_and_accents(header: str, column: str) -> None:
    base = "Nom;Courriel" if column == "matrix_id" else "Nom;Matrix"
    parsed = parse(f"{base};{header}\nCamille;@c:x.org;@c:x.org\n")
    assert parsed.columns[column] == header
    assert header_key(" Département(s) ") == "departement s"


def test_first_and_last_name_columns_are_combined() -> None:
    parsed = parse("Prénom;NOM;Tchap\nCamille;Martin;@c:x.org\n")
    assert parsed.contacts[0].name == "Camille Martin"


def test_missing_required_column_is_one_clear_error() -> None:
    with pytest.raises(ContactFileError) as err:
        parse("Nom;Courriel;Structure\nCamille;c@x.fr;Région\n")
    assert err.value.key == "contacts.errors.missing_columns"
    assert err.value.params["missing"] == "Identifiant Matrix"
    assert "Courriel" in err.value.params["found"]
    with pytest.raises(ContactFileError) as empty:
        parse("\n\n")
    assert empty.value.key == "contacts.errors.empty_file"


def test_bad_rows_are_reported_with_line_numbers_and_skipped() -> None:
    parsed = parse(
        HEADER + "\n"
        "Camille Martin;c@x.fr;Région;région;Région;@c:x.org\n"
        "\n"
        ";;;;;\n"
        "Dominique;pas-une-adresse;CAF;CAF;31;@d:x.org\n"
        "Claude;claude@x.fr;Mairie;boulangerie;99;claude\n"
        "Sans Matrix;s@x.fr;Mairie;commune;31;\n"
        ";anonyme@x.fr;Mairie;commune;31;@anon:x.org\n"
    )
    assert [c.name for c in parsed.contacts] == ["Camille Martin"]
    lines = {row.line: [p.key for p in row.problems] for row in parsed.bad_rows}
    assert lines == {
        5: ["contacts.errors.bad_email"],
        6: ["profil.errors.bad_kind", "profil.errors.bad_territory", "contacts.errors.bad_matrix_id"],
        7: ["contacts.errors.no_matrix_id"],
        8: ["profil.errors.empty"],
    }
    claude = next(r for r in parsed.bad_rows if r.line == 6)
    assert claude.label == "Claude"
    assert claude.problems[0].params["value"] == "boulangerie"


def test_values_go_through_the_profile_parsers() -> None:
    long_bio = "x" * 501
    parsed = parse(f"Nom;Matrix;Présentation\nCamille;@c:x.org;{long_bio}\n")
    (row,) = parsed.bad_rows
    assert row.problems[0].key == "profil.errors.too_long"
    assert row.problems[0].params["limit"] == 500


def test_duplicate_matrix_id_keeps_the_first_row() -> None:
    parsed = parse("Nom;Matrix\nCamille;@c:x.org\nClaude;@claude:x.org\nCamille bis;@c:x.org\n")
    assert [c.name for c in parsed.contacts] == ["Camille", "Claude"]
    (dup,) = parsed.bad_rows
    assert dup.line == 4
    assert dup.problems[0].key == "contacts.errors.duplicate"
    assert dup.problems[0].params == {"first": 2}


def test_matrix_ids_and_links() -> None:
    parsed = parse(
        "Nom;Matrix\nA;https://matrix.to/#/@a:x.org\nB;@b.c-d_e=f/g:[::1]:8448\nC;@c x:x.org\nD;@d:\n"
    )
    assert [c.user_id for c in parsed.contacts] == ["@a:x.org", "@b.c-d_e=f/g:[::1]:8448"]
    assert [r.line for r in parsed.bad_rows] == [4, 5]
