"""CSV files for spreadsheets, written one way by every export: `;`-separated, CRLF line
ends, and no cell a spreadsheet would run.

A cell starting with `=`, `+`, `-` or `@` (or a tab or carriage return, which some
spreadsheets skip before reading one) is taken by Excel, LibreOffice and Google Sheets for
a formula: « =HYPERLINK("https://…";"Cliquez") » typed in a member's presentation would
act on the machine of whoever opens the export (CSV injection). Such a cell is written
behind an apostrophe, which spreadsheets show as plain text; numbers (« -3 », « +1,5 »)
are left as they are. `import-contacts` reads an exported cell back as it was typed."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
NUMBER = re.compile(r"^[+-]?\d[\d\u00a0\u202f ]*(?:[.,]\d+)?(?: ?%)?$")


def safe_cell(value: object) -> str:
    """The cell as a spreadsheet will show it, never run it."""
    text = "" if value is None else str(value)
    if text.startswith(FORMULA_STARTS) and not NUMBER.match(text):
        return "'" + text
    return text


def typed_cell(cell: str) -> str:
    """What was typed, from a cell `safe_cell` wrote (the apostrophe it added removed)."""
    if cell.startswith("'") and cell[1:].startswith(FORMULA_STARTS):
        return cell[1:]
    return cell


def to_csv(rows: Iterable[Sequence[object]]) -> str:
    """The rows (headers first) as CSV text; write it as `utf-8-sig` so spreadsheets read
    the accents right. Newlines inside a cell stay in it (quoted)."""
    out = io.StringIO(newline="")
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerows([safe_cell(v) for v in row] for row in rows)
    return out.getvalue()
