"""The contact book and the directory on the operator's command line:

    oasis-bot import-contacts contacts.csv [--config config.toml] [--dry-run]
    oasis-bot export-directory --format csv|vcard [--output FILE] [--all]

Import creates pre-filled profiles, pending and hidden until their owner confirms them;
the good rows are written in one transaction (a crash leaves nothing), the bad ones are
reported with their line number. Export writes the listed profiles (all with `--all`)."""

from __future__ import annotations

import argparse
import asyncio
import sys
from dataclasses import dataclass
from pathlib import Path

from bot.cli import cli_command, report_config
from bot.errors import UserError
from bot.i18n import Translator, default_catalog
from commands.annuaire.contacts_csv import ParsedFile, parse_contacts
from commands.annuaire.export import to_csv, to_vcard
from commands.annuaire.fields import DirectoryConfig, directory_settings
from storage.db import Database, DatabaseError
from storage.repositories.profiles import ImportOutcome

SHOWN_KEPT = 10  # Matrix IDs named in the « left as it is » line


@dataclass
class ImportReport:
    parsed: ParsedFile
    outcome: ImportOutcome
    dry_run: bool


async def import_contacts(
    db: Database, data: bytes, settings: DirectoryConfig, *, dry_run: bool = False
) -> ImportReport:
    """Parse a contact file and write its good rows in one unit of work (rolled back
    on a dry run, or by any error: nothing is ever half-imported). Raises
    `ContactFileError` (a `UserError`) when the file as a whole is unusable."""
    parsed = parse_contacts(data, settings)
    async with db.unit() as repos:
        outcome = await repos.profiles.import_contacts({c.user_id: c.values() for c in parsed.contacts})
        if dry_run:
            await repos.rollback()
        else:
            await repos.commit()
    return ImportReport(parsed, outcome, dry_run)


def import_text(report: ImportReport, path: str, tr: Translator) -> str:
    """The summary printed after an import, in the operator's language."""
    parsed, outcome = report.parsed, report.outcome
    separator = {";": "separator_semicolon", ",": "separator_comma"}.get(parsed.separator, "separator_tab")
    read = len(parsed.contacts) + len(parsed.bad_rows)
    out = [
        tr.t(
            "contacts.import.read",
            path=path,
            n=read,
            encoding=parsed.encoding.upper(),
            separator=tr.t(f"contacts.import.{separator}"),
        )
    ]
    if parsed.ignored_headers:
        out.append(tr.t("contacts.import.ignored_headers", headers=", ".join(parsed.ignored_headers)))
    imported = len(outcome.created) + len(outcome.updated)
    out.append(
        tr.t(
            "contacts.import.summary",
            profiles=tr.t("contacts.import.profiles", n=imported),
            created=tr.t("contacts.import.created", n=len(outcome.created)),
            updated=tr.t("contacts.import.updated", n=len(outcome.updated)),
            bad=tr.t("contacts.import.bad", n=len(parsed.bad_rows)),
        )
    )
    for row in parsed.bad_rows:
        problems = " ".join(_sentence(tr.t(p.key, **p.params)) for p in row.problems)
        key = "contacts.import.bad_row" if row.label else "contacts.import.bad_row_unnamed"
        out.append(tr.t(key, line=row.line, label=row.label, problems=problems))
    if outcome.kept:
        who = ", ".join(outcome.kept[:SHOWN_KEPT]) + ("…" if len(outcome.kept) > SHOWN_KEPT else "")
        out.append(tr.t("contacts.import.kept", n=len(outcome.kept), who=who))
    if imported:
        out.append(tr.t("contacts.import.hidden"))
    if report.dry_run:
        out.append(tr.t("contacts.import.dry_run"))
    return "\n".join(out)


def _sentence(text: str) -> str:
    text = text.strip()
    return text[:1].upper() + text[1:]


async def export_directory(db: Database, fmt: str, *, include_all: bool = False) -> tuple[str, int]:
    """The directory as CSV or vCard text, and how many profiles it holds."""
    async with db.unit() as repos:
        profiles = await repos.profiles.all(listed_only=not include_all)
    return (to_csv(profiles) if fmt == "csv" else to_vcard(profiles)), len(profiles)


# --- the command line ------------------------------------------------------------------


def _tr(lang: str = "fr") -> Translator:
    return default_catalog().translator(lang)


def _common(parser: argparse.ArgumentParser) -> None:
    tr = _tr()
    parser.add_argument("--config", "-c", default="config.toml", help=tr.t("contacts.cli.config"))
    parser.add_argument("--lang", choices=["fr", "en"], default="fr")


def _import_arguments(parser: argparse.ArgumentParser) -> None:
    tr = _tr()
    parser.description = tr.t("contacts.cli.import_description")
    parser.add_argument("file", help=tr.t("contacts.cli.import_file"))
    _common(parser)
    parser.add_argument("--dry-run", action="store_true", help=tr.t("contacts.cli.dry_run"))


def _export_arguments(parser: argparse.ArgumentParser) -> None:
    tr = _tr()
    parser.description = tr.t("contacts.cli.export_description")
    parser.add_argument(
        "--format", "-f", choices=["csv", "vcard"], default="csv", help=tr.t("contacts.cli.format")
    )
    parser.add_argument("--output", "-o", help=tr.t("contacts.cli.output"))
    parser.add_argument("--all", action="store_true", help=tr.t("contacts.cli.all"))
    _common(parser)


@cli_command("import-contacts", help="contacts.cli.import_help", configure=_import_arguments)
def import_contacts_cli(args: argparse.Namespace) -> int:
    tr = _tr(args.lang)
    config, text = report_config(args.config, args.lang)
    if config is None:
        print(text, file=sys.stderr)
        return 1
    path = Path(args.file)
    if not path.is_file():
        print(tr.t("contacts.errors.file_missing", path=args.file), file=sys.stderr)
        return 1

    data = path.read_bytes()

    async def run() -> ImportReport:
        db = Database(config.database.url)
        try:
            await db.migrate()
            return await import_contacts(db, data, directory_settings(config), dry_run=args.dry_run)
        finally:
            await db.dispose()

    try:
        report = asyncio.run(run())
    except UserError as err:
        print(tr.t(err.key, **err.params), file=sys.stderr)
        return 1
    except (OSError, DatabaseError) as exc:
        print(tr.t("contacts.errors.database", detail=type(exc).__name__), file=sys.stderr)
        return 1
    print(import_text(report, args.file, tr))
    return 0


@cli_command("export-directory", help="contacts.cli.export_help", configure=_export_arguments)
def export_directory_cli(args: argparse.Namespace) -> int:
    tr = _tr(args.lang)
    config, text = report_config(args.config, args.lang)
    if config is None:
        print(text, file=sys.stderr)
        return 1

    async def run() -> tuple[str, int]:
        db = Database(config.database.url)
        try:
            await db.migrate()
            return await export_directory(db, args.format, include_all=args.all)
        finally:
            await db.dispose()

    try:
        content, n = asyncio.run(run())
    except (OSError, DatabaseError) as exc:
        print(tr.t("contacts.errors.database", detail=type(exc).__name__), file=sys.stderr)
        return 1
    # A BOM in CSV files makes spreadsheets read UTF-8 accents right.
    encoding = "utf-8-sig" if args.format == "csv" else "utf-8"
    if args.output:
        Path(args.output).write_bytes(content.encode(encoding))
    else:
        sys.stdout.buffer.write(content.encode("utf-8"))
        sys.stdout.flush()
    fmt = "CSV" if args.format == "csv" else "vCard 4.0"
    where = args.output or tr.t("contacts.export.stdout")
    print(tr.t("contacts.export.done", n=n, format=fmt, path=where), file=sys.stderr)
    if args.all:
        print(tr.t("contacts.export.all_warning"), file=sys.stderr)
    return 0
