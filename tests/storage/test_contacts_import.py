"""Importing the contact book and exporting the directory, on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.cli import main
from commands.annuaire.contacts import export_directory, import_contacts
from commands.annuaire.fields import DirectoryConfig
from storage.db import Database
from storage.models.directory import Profile
from storage.repositories.profiles import DirectoryQuery, profile_dict

SETTINGS = DirectoryConfig()
FILE = (
    "Prénom;Nom;Courriel;Structure;Type de structure;Fonction;Territoire;Compétences;Présentation;"
    "Identifiant Matrix\n"
    "Camille;Martin;camille@laregion.fr;Région Occitanie;région;Cheffe de projet;Région;prospective, design;"
    '"Deux lignes ;\nde présentation";@camille:x.org\n'
    "Dominique;Durand;dd@caf31.fr;CAF 31;caf;;31, 34;évaluation;;@dominique:x.org\n"
    "Claude;Petit;pas-une-adresse;Mairie;commune;;31;;;@claude:x.org\n"
).encode("cp1252")


async def _profiles(db: Database) -> dict[str, Profile]:
    async with db.unit() as repos:
        return {p.user_id: p for p in await repos.profiles.all()}


async def test_import_creates_hidden_pending_profiles(db: Database) -> None:
    report = await import_contacts(db, FILE, SETTINGS)
    assert sorted(report.outcome.created) == ["@camille:x.org", "@dominique:x.org"]
    assert [(r.line, r.problems[0].key) for r in report.parsed.bad_rows] == [(5, "contacts.errors.bad_email")]
    profiles = await _profiles(db)
    assert set(profiles) == {"@camille:x.org", "@dominique:x.org"}
    camille = profiles["@camille:x.org"]
    assert (camille.visible, camille.pending, camille.source) == (False, True, "import")
    assert camille.name == "Camille Martin"
    assert camille.bio == "Deux lignes ;\nde présentation"
    assert camille.tags == ["prospective", "design"]
    assert profiles["@dominique:x.org"].territories == ["Haute-Garonne (31)", "Hérault (34)"]
    assert profiles["@dominique:x.org"].kind == "Organisme social"
    async with db.unit() as repos:  # hidden until confirmed: not searchable
        assert (await repos.profiles.search(DirectoryQuery(text="martin"))).total == 0
        assert await repos.profiles.count_listed() == 0


async def test_reimport_is_idempotent_and_refreshes_pending_profiles(db: Database) -> None:
    await import_contacts(db, FILE, SETTINGS)
    before = {k: profile_dict(p) for k, p in (await _profiles(db)).items()}
    again = await import_contacts(db, FILE, SETTINGS)
    assert again.outcome.created == [] and sorted(again.outcome.updated) == sorted(before)
    after = {k: profile_dict(p) for k, p in (await _profiles(db)).items()}
    for d in (*before.values(), *after.values()):
        d.pop("modifie_le")
    assert after == before
    changed = FILE.replace("CAF 31".encode("cp1252"), "CAF de la Haute-Garonne".encode("cp1252"))
    await import_contacts(db, changed, SETTINGS)
    assert (await _profiles(db))["@dominique:x.org"].structure == "CAF de la Haute-Garonne"


async def test_a_profile_made_or_confirmed_by_its_owner_is_never_overwritten(db: Database) -> None:
    async with db.unit() as repos:
        mine = await repos.profiles.get_or_create("@camille:x.org", "Camille")
        mine.structure = "Ma structure"
        mine.visible = True
        await repos.profiles.save(mine)
        await repos.commit()
    report = await import_contacts(db, FILE, SETTINGS)
    assert report.outcome.kept == ["@camille:x.org"]
    assert report.outcome.created == ["@dominique:x.org"]
    camille = (await _profiles(db))["@camille:x.org"]
    assert (camille.structure, camille.source, camille.pending, camille.visible) == (
        "Ma structure",
        "member",
        False,
        True,
    )
    async with db.unit() as repos:  # still found, index untouched
        assert (await repos.profiles.search(DirectoryQuery(text="structure"))).total == 1


async def test_a_crash_mid_import_leaves_nothing(db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    lines = ["Nom;Identifiant Matrix"] + [f"Personne {i};@p{i}:x.org" for i in range(4500)]
    data = "\n".join(lines).encode()
    real = AsyncSession.execute
    inserts = 0

    async def failing(self: AsyncSession, statement: Any, *args: Any, **kwargs: Any) -> Any:
        nonlocal inserts
        if getattr(statement, "is_insert", False):
            inserts += 1
            if inserts == 2:  # the first chunk of 2 000 is written, then the crash
                raise RuntimeError("crash")
        return await real(self, statement, *args, **kwargs)

    monkeypatch.setattr(AsyncSession, "execute", failing)
    with pytest.raises(RuntimeError):
        await import_contacts(db, data, SETTINGS)
    monkeypatch.undo()
    async with db.unit() as repos:
        assert await repos.session.scalar(select(func.count()).select_from(Profile)) == 0
    report = await import_contacts(db, data, SETTINGS)
    assert len(report.outcome.created) == 4500
    assert len(await _profiles(db)) == 4500


async def test_dry_run_writes_nothing(db: Database) -> None:
    report = await import_contacts(db, FILE, SETTINGS, dry_run=True)
    assert len(report.outcome.created) == 2
    assert await _profiles(db) == {}


async def test_export_then_import_gives_the_same_profiles(db: Database) -> None:
    await import_contacts(db, FILE, SETTINGS)
    listed, _ = await export_directory(db, "csv")
    assert listed.count("\n") == 1  # only the header: nothing is listed yet
    text, n = await export_directory(db, "csv", include_all=True)
    assert n == 2
    before = {k: profile_dict(p) for k, p in (await _profiles(db)).items()}
    async with db.unit() as repos:
        for user_id in before:
            await repos.profiles.delete(user_id)
        await repos.commit()
    report = await import_contacts(db, text.encode("utf-8-sig"), SETTINGS)
    assert report.parsed.bad_rows == [] and len(report.outcome.created) == 2
    after = {k: profile_dict(p) for k, p in (await _profiles(db)).items()}
    for d in (*before.values(), *after.values()):
        d.pop("modifie_le")
        d.pop("cree_le")
    assert after == before
    vcard, n = await export_directory(db, "vcard", include_all=True)
    assert n == 2 and vcard.count("BEGIN:VCARD") == 2


def test_the_command_line_prints_a_french_summary(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "config.toml"
    config.write_text(
        '[matrix]\nhomeserver = "http://127.0.0.1:1"\nuser_id = "@oasis:x.org"\npassword = "x"\n'
        '[bot]\nrooms = ["!net:x.org"]\n'
        f'[database]\nurl = "sqlite+aiosqlite:///{tmp_path / "oasis.db"}"\n'
    )
    contacts = tmp_path / "contacts.csv"
    contacts.write_bytes(FILE)
    assert main(["import-contacts", str(contacts), "--config", str(config)]) == 0
    out = capsys.readouterr().out
    assert "3 contacts lus (encodage CP1252, séparateur point-virgule)" in out
    assert "2 profils importés (2 nouveaux, aucun mis à jour), 1 ligne ignorée\u00a0:" in out
    assert "ligne 5 (Claude Petit)\u00a0: «\u00a0pas-une-adresse\u00a0» n'est pas une adresse" in out
    output = tmp_path / "annuaire.vcf"
    args = ["export-directory", "--format", "vcard", "--all", "--output", str(output), "-c", str(config)]
    assert main(args) == 0
    assert output.read_text(encoding="utf-8").count("BEGIN:VCARD") == 2
    assert "2 profils exportés (vCard 4.0)" in capsys.readouterr().err
    assert main(["import-contacts", str(tmp_path / "absent.csv"), "--config", str(config)]) == 1
    assert "Fichier introuvable" in capsys.readouterr().err
