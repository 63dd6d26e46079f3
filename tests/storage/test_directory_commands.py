"""`!profil` and `!annuaire` through their handlers, on SQLite and PostgreSQL (no
homeserver): what members type, what they read, what is stored."""

from __future__ import annotations

from typing import Any

from bot.errors import UserError
from bot.registry import REGISTRY, MemberChange
from commands.annuaire import commands as d
from commands.donnees.commands import forget_me_confirmed
from storage.db import Database
from storage.repositories.profiles import DirectoryQuery
from tests.support.fakes import FakeRooms, make_context, make_services, test_config
from tests.support.fakes import render as _render

ALICE, BOB, CAROL = "@alice:example.org", "@bob:example.org", "@carol:example.org"
ROOMS = FakeRooms(names={ALICE: "Alice Martin", BOB: "Bob Durand", CAROL: "Carol"})


def plain(text: str) -> str:
    return text.replace("\u00a0", " ").replace("\u202f", " ")


def services(**sections: Any):  # type: ignore[no-untyped-def]
    return make_services(test_config(**sections), rooms=ROOMS)


async def run(db: Database, handler: Any, *args: Any, sender: str = ALICE, svc: Any = None, **kw: Any) -> str:
    """Call a handler as `sender` in one unit of work; what they read (an error too)."""
    async with db.unit() as repos:
        ctx = await make_context(repos, sender=sender, services=svc or services(), **kw)
        try:
            reply = await handler(ctx, *args)
        except UserError as err:
            return "ERREUR " + plain(ctx.rich(err.key, **err.params).plain)
        await repos.commit()
        return plain(_render(ctx, reply))


async def test_edit_fields_then_appear_in_the_directory(db: Database) -> None:
    assert (await run(db, d.profile, "")).startswith("Vous n'avez pas encore de profil dans l'annuaire.")
    assert await run(db, d.profile, "structure CAF de la Haute-Garonne") == (
        "✅ Structure : CAF de la Haute-Garonne\n"
        "(Profil masqué : tapez !profil visible pour apparaître dans l'annuaire.)"
    )
    assert (await run(db, d.profile, "type caisse d'allocations familiales")).startswith(
        "✅ Type de structure : Organisme social"
    )
    assert (await run(db, d.profile, "Territoire haute garonne, 32")).startswith(
        "✅ Territoire : Haute-Garonne (31), Gers (32)"
    )
    assert (await run(db, d.profile, "compétences Prospective, évaluation")).startswith(
        "✅ Compétences et sujets : prospective, évaluation"
    )
    assert await run(db, d.directory, "evaluation", sender=BOB) == _none("evaluation")  # still hidden
    shown = await run(db, d.make_visible)
    assert shown.startswith("👁 Votre profil est visible")
    assert "À compléter : fonction." in shown
    found = await run(db, d.directory, "evaluaton territoire:31", sender=BOB)
    assert found.split("\n") == [
        "1 membre trouvé :",
        "• Alice Martin — CAF de la Haute-Garonne · Haute-Garonne (31), Gers (32) · sujets : évaluation",
    ]
    # Someone else's profile, once listed.
    card = await run(db, d.profile, ALICE, sender=BOB)
    assert card.split("\n")[:2] == ["Alice Martin", "Structure : CAF de la Haute-Garonne"]
    assert await run(db, d.make_hidden, sender=ALICE) == (
        "🔒 Votre profil est masqué : il n'apparaît plus dans l'annuaire. Ses informations sont gardées ; "
        "pour les effacer : !profil supprimer"
    )
    assert (
        await run(db, d.profile, ALICE, sender=BOB)
        == "Alice Martin n'a pas de profil visible dans l'annuaire."
    )


async def test_a_typed_name_finds_the_listed_member(db: Database) -> None:
    # « !profil Alice Martin » without a mention pill: the listed member of that name; a
    # name that fits several lists them (links that do not notify); a hidden profile is
    # answered as if nobody had that name.
    names = {ALICE: "Alice Martin", BOB: "Bob Durand", CAROL: "Alice Martinez"}
    svc = make_services(test_config(), rooms=FakeRooms(names=names))
    for who, structure in [(ALICE, "CAF de l'Aude"), (BOB, "Mairie de Rodez"), (CAROL, "DDT du Gers")]:
        await run(db, d.profile, f"structure {structure}", sender=who, svc=svc)
        await run(db, d.make_visible, sender=who, svc=svc)
    card = await run(db, d.profile, "alice martin", sender=BOB, svc=svc)
    assert card.split("\n")[:2] == ["Alice Martin", "Structure : CAF de l'Aude"]
    bob = await run(db, d.profile, "Bob", sender=ALICE, svc=svc)
    assert bob.startswith("Bob Durand\nStructure : Mairie")
    several = await run(db, d.profile, "alice mart", sender=BOB, svc=svc)
    assert several.split("\n")[:3] == [
        "Plusieurs membres visibles dans l'annuaire répondent à « alice mart » :",
        "• Alice Martinez — DDT du Gers",
        "• Alice Martin — CAF de l'Aude",
    ]
    assert "!profil suivi de la personne" in several
    await run(db, d.make_hidden, sender=BOB, svc=svc)
    hidden = await run(db, d.profile, "Bob Durand", sender=ALICE, svc=svc)
    assert hidden.startswith("ERREUR « Bob Durand » n'est ni un champ du profil ni le nom d'un membre")
    # Alice hidden: « Alice Martin » now fits Alice Martinez alone, shown at once.
    await run(db, d.make_hidden, sender=ALICE, svc=svc)
    assert (await run(db, d.profile, "alice martin", sender=BOB, svc=svc)).startswith("Alice Martinez\n")


async def test_wrong_field_and_wrong_values_list_what_is_valid(db: Database) -> None:
    wrong_field = await run(db, d.profile, "couleur bleu")
    assert wrong_field.startswith(
        "ERREUR « couleur bleu » n'est ni un champ du profil ni le nom d'un membre visible dans "
        "l'annuaire. Champs : nom, structure, type,"
    )
    bad_kind = await run(db, d.profile, "type banane")
    assert bad_kind.startswith(
        "ERREUR « banane » n'est pas un type de structure connu. Types : Région · Département"
    )
    bad_territory = await run(db, d.profile, "territoire 31, Paris")
    assert bad_territory.startswith(
        "ERREUR « Paris » n'est pas un territoire connu. Territoires : Ariège (09) ·"
    )
    missing = await run(db, d.profile, "fonction")
    assert missing == (
        "ERREUR Indiquez la nouvelle valeur de « Fonction », par exemple : "
        "!profil fonction chargée de mission innovation — pour vider ce champ : !profil effacer fonction"
    )
    too_long = await run(db, d.profile, "presentation " + "x" * 501)
    assert "trop long : 501 caractères, 500 au plus" in too_long
    async with db.unit() as repos:
        assert await repos.profiles.get(ALICE) is None  # nothing half-created


async def test_name_defaults_to_matrix_name_and_can_be_overridden(db: Database) -> None:
    await run(db, d.profile, "structure Mairie de Toulouse")
    await run(db, d.make_visible)
    assert await _found(db, "alice martin") == ["Alice Martin"]
    assert (await run(db, d.profile, "nom Alice M.")).startswith("✅ Nom : Alice M.")
    assert await _found(db, "alice martin") == []
    assert await _found(db, "alice") == ["Alice M."]
    assert (
        await run(db, d.clear, "nom")
        == "Votre nom dans l'annuaire redevient votre nom Matrix : Alice Martin."
    )
    # A rename in Matrix (join → join) follows into the directory.
    async with db.unit() as repos:
        ctx = await make_context(repos, sender=ALICE, services=services())
        change = MemberChange(
            "!room:example.org", ALICE, ALICE, "join", "join", "Alice Dupont", "Alice Martin", "$e", 0
        )
        for hook in REGISTRY.member_hooks:
            await hook(ctx, change)
        await repos.commit()
    assert await _found(db, "dupont") == ["Alice Dupont"]


async def test_imported_profile_waits_for_its_owner(db: Database) -> None:
    async with db.unit() as repos:
        p = await repos.profiles.get_or_create(CAROL)
        p.structure, p.email, p.pending, p.source = "CPAM du Gers", "carol@example.org", True, "import"
        await repos.profiles.save(p)
        await repos.commit()
    assert await _found(db, "cpam") == []
    in_room = await run(db, d.profile, "", sender=CAROL)
    assert "📥 Ce profil a été pré-rempli à partir du carnet de contacts du réseau." in in_room
    assert "carol@example.org" not in in_room
    in_dm = await run(db, d.profile, "", sender=CAROL, is_direct=True)
    assert "E-mail : carol@example.org" in in_dm
    edited = await run(db, d.profile, "fonction chargée de mission", sender=CAROL)
    assert "attend votre confirmation : !profil confirmer" in edited
    assert await run(db, d.confirm, sender=CAROL) == (
        "✅ Merci, votre profil est confirmé. Il reste masqué ; "
        "pour apparaître dans l'annuaire : !profil visible"
    )
    assert await _found(db, "cpam") == []  # confirmed, still hidden: opt-in
    assert await run(db, d.confirm, sender=CAROL) == "Votre profil n'attend pas de confirmation."
    await run(db, d.make_visible, sender=CAROL)
    assert await _found(db, "cpam") == ["Carol"]


async def test_visible_confirms_a_pending_profile_in_one_step(db: Database) -> None:
    async with db.unit() as repos:
        p = await repos.profiles.get_or_create(CAROL)
        p.structure, p.pending = "CPAM du Gers", True
        await repos.profiles.save(p)
        await repos.commit()
    assert (await run(db, d.make_visible, sender=CAROL)).startswith(
        "✅ Merci, votre profil est confirmé et visible"
    )
    assert await _found(db, "cpam") == ["Carol"]


async def test_delete_asks_first_then_erases_everything(db: Database) -> None:
    await run(db, d.profile, "competences prospective")
    await run(db, d.make_visible)
    ask = await run(db, d.delete, "")
    assert ask.startswith("Supprimer votre profil efface toutes ses informations")
    assert "!profil supprimer confirmer" in ask
    assert await _found(db, "prospective") == ["Alice Martin"]
    assert (await run(db, d.delete, "peut-être")).startswith(
        "ERREUR Pour supprimer votre profil, tapez exactement"
    )
    assert await run(db, d.delete, "confirmer") == "🗑 Votre profil est supprimé : il n'en reste rien."
    assert await _found(db, "prospective") == []
    async with db.unit() as repos:
        assert await repos.profiles.get(ALICE) is None
    assert (await run(db, d.delete, "confirmer")).startswith("Vous n'avez pas encore de profil")


async def test_paging_reruns_the_search_so_erasures_are_respected(db: Database) -> None:
    svc = services(annuaire={"page_size": 2})
    for i, who in enumerate(["@p1:example.org", "@p2:example.org", "@p3:example.org", "@p4:example.org"]):
        await run(db, d.profile, f"competences prospective, sujet{i}", sender=who, svc=svc)
        await run(db, d.make_visible, sender=who, svc=svc)
    first = await run(db, d.directory, "prospective", sender=BOB, svc=svc)
    assert first.split("\n")[0] == "4 membres trouvés, de 1 à 2 :"
    assert first.split("\n")[-1] == "Encore 2 : !annuaire suite"
    # One of the members on the next page erases their profile meanwhile.
    async with db.unit() as repos:
        await repos.profiles.erase_member("@p2:example.org")  # ties go to the newest: p4, p3 | p2, p1
        await repos.commit()
    second = await run(db, d.more, sender=BOB, svc=svc)
    assert second.split("\n")[0] == "3 membres trouvés, de 3 à 3 :"
    assert "p2" not in second and "p1" in second
    assert await run(db, d.more, sender=BOB, svc=svc) == (
        "C'est tout : la recherche « prospective » n'a pas d'autre résultat."
    )
    # The last search belongs to one member in one room.
    assert (await run(db, d.more, sender=CAROL, svc=svc)).startswith("Pas de recherche récente")
    assert (await run(db, d.more, sender=BOB, svc=svc, room_id="!other:example.org")).startswith(
        "Pas de recherche récente"
    )


async def test_filters_in_the_command(db: Database) -> None:
    for who, fields in (
        (ALICE, ["type caf", "territoire 31", "competences prospective, design de services"]),
        (BOB, ["type mairie", "territoire 31", "competences prospective"]),
    ):
        for f in fields:
            await run(db, d.profile, f, sender=who)
        await run(db, d.make_visible, sender=who)
    assert "Alice Martin" in await run(db, d.directory, "type:CAF", sender=CAROL)
    only_bob = await run(db, d.directory, "prospective type:commune Territoire:Haute-Garonne", sender=CAROL)
    assert only_bob.startswith("1 membre trouvé") and "Bob Durand" in only_bob
    assert "Alice Martin" in await run(db, d.directory, 'competence:"design de services"', sender=CAROL)
    assert "Alice Martin" in await run(db, d.directory, "sujet:design", sender=CAROL)  # the one topic so
    bad = await run(db, d.directory, "prospective territoire:paris", sender=CAROL)
    assert bad.startswith("ERREUR « paris » n'est pas un territoire connu. Territoires : Ariège (09) ·")
    assert await run(db, d.directory, "xylophone", sender=CAROL) == _none("xylophone")


async def test_counts_without_words(db: Database) -> None:
    assert (await run(db, d.directory, "")).startswith("Personne n'est encore visible dans l'annuaire.")
    for who, fields in (
        (ALICE, ["type caf", "territoire 31, 32"]),
        (BOB, ["type cpam", "territoire 31"]),
        (CAROL, ["structure Mairie"]),
    ):
        for f in fields:
            await run(db, d.profile, f, sender=who)
        await run(db, d.make_visible, sender=who)
    await run(db, d.profile, "type commune", sender="@hidden:example.org")  # hidden: not counted
    assert (await run(db, d.directory, "")).split("\n") == [
        "L'annuaire compte 3 membres visibles.",
        "Par type de structure : Organisme social 2 · non renseigné 1",
        "Par territoire : Haute-Garonne (31) 2 · Gers (32) 1",
        "Pour chercher : !annuaire prospective territoire:31",
    ]


async def test_personal_data_source(db: Database) -> None:
    source = next(s for s in REGISTRY.personal_data if s.name == "profil")
    svc = services()
    await run(db, d.profile, "competences prospective", svc=svc)
    await run(db, d.make_visible, svc=svc)
    await run(db, d.directory, "prospective", svc=svc)
    async with db.unit() as repos:
        exported = await source.export(repos, ALICE)
        assert exported["competences"] == ["prospective"] and exported["visible"] is True
    await run(db, forget_me_confirmed, svc=svc)  # !oublier-moi confirmer
    async with db.unit() as repos:
        assert await source.export(repos, ALICE) is None
    assert (await run(db, d.more, svc=svc)).startswith("Pas de recherche récente")  # forgotten too


async def test_last_searches_belong_to_one_bot(db: Database) -> None:
    """Two bots in one process (a standby, the tests) keep their own last searches."""
    first, second = services(annuaire={"page_size": 1}), services(annuaire={"page_size": 1})
    for who in ("@p1:example.org", "@p2:example.org"):
        await run(db, d.profile, "competences prospective", sender=who, svc=first)
        await run(db, d.make_visible, sender=who, svc=first)
    assert "Encore 1" in await run(db, d.directory, "prospective", sender=BOB, svc=first)
    assert (await run(db, d.more, sender=BOB, svc=second)).startswith("Pas de recherche récente")
    assert "de 2 à 2" in await run(db, d.more, sender=BOB, svc=first)


def _none(query: str) -> str:
    return (
        f"Personne ne correspond à « {query} ». Vérifiez l'orthographe, essayez moins de mots ou de filtres, "
        "ou un début de mot (« prospect »). Seuls les profils rendus visibles par leurs membres apparaissent."
    )


async def _found(db: Database, text: str) -> list[str]:
    async with db.unit() as repos:
        page = await repos.profiles.search(DirectoryQuery(text))
        return [p.shown_name for p in page.profiles]


async def test_a_word_naming_a_kind_is_offered_as_that_filter(db: Database) -> None:
    await run(db, d.profile, "structure DDT de l'Hérault")
    await run(db, d.profile, "type préfecture")  # Service de l'État
    await run(db, d.profile, "territoire 34")
    await run(db, d.profile, "competences eau")
    await run(db, d.make_visible)
    # « prefecture » is in no profile's words (its type's name is); as a filter it finds Alice.
    assert await run(db, d.directory, "prefecture eau", sender=BOB) == (
        _none("prefecture eau") + "\nPour chercher par type de structure : !annuaire type:prefecture eau"
    )
    assert "Alice Martin" in await run(db, d.directory, "type:prefecture eau", sender=BOB)
    assert "Alice Martin" in await run(db, d.directory, "eau 34", sender=BOB)  # territories are words
    # Nothing to offer when the filter would find nobody either, or a type is already given.
    assert await run(db, d.directory, "prefecture mer", sender=BOB) == _none("prefecture mer")
    assert await run(db, d.directory, "prefecture type:caf", sender=BOB) == _none("prefecture type:caf")


async def test_a_list_field_says_it_replaces_and_offers_adding_and_removing(db: Database) -> None:
    assert await run(db, d.profile, "competences prospective, évaluation") == (
        "✅ Compétences et sujets : prospective, évaluation\n"
        "(Profil masqué : tapez !profil visible pour apparaître dans l'annuaire.)"
    )
    replaced = await run(db, d.profile, "competences sobriété")
    assert replaced.startswith("✅ Compétences et sujets : sobriété\n")
    assert (
        "Cette liste remplace la précédente (prospective, évaluation). Pour ajouter sans remplacer : "
        "!profil competences + … ; pour retirer : !profil competences - …"
    ) in replaced
    added = await run(db, d.profile, "competences + prospective, Sobriété")
    assert added.startswith("✅ Compétences et sujets : sobriété, prospective\n")  # no duplicate
    assert "remplace" not in added
    removed = await run(db, d.profile, "competences - sobriete")
    assert removed.startswith("✅ Compétences et sujets : prospective\n")
    assert (await run(db, d.profile, "territoire 31")).startswith("✅ Territoire : Haute-Garonne (31)")
    assert (await run(db, d.profile, "territoire + gers")).startswith(
        "✅ Territoire : Haute-Garonne (31), Gers (32)"
    )
    missing = await run(db, d.profile, "territoire - 34")
    assert missing == "ERREUR Territoire : « Hérault (34) » n'y figure pas. Votre profil : !profil"
