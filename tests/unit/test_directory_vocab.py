"""The directory's vocabularies as members type them: kinds of structure, territories,
topics, profile field values and the filters of `!annuaire`."""

from __future__ import annotations

import pytest

from bot.errors import UserError
from commands import directory_vocab as vocab
from commands.annuaire.fields import DirectoryConfig, field_named, parse_kind, parse_tags, parse_territories
from commands.annuaire.search import parse_query

KINDS = vocab.DEFAULT_KINDS
TERRITORIES = vocab.DEFAULT_TERRITORIES
CFG = DirectoryConfig()


# --- kinds of structure ---------------------------------------------------------------
@pytest.mark.parametrize(
    "typed",
    [
        "caf",
        "CAF",
        "Caisse d'allocations familiales",
        "caisse d’allocations familiales",
        "CAF de l'Aude",
        "URSSAF",
    ],
)
def test_social_bodies_are_organisme_social(typed: str) -> None:
    assert vocab.find_kind(typed, KINDS) == "Organisme social"


@pytest.mark.parametrize(
    ("typed", "kind"),
    [
        ("Préfecture", "Service de l'État"),
        ("DDTM de l'Hérault", "Service de l'État"),
        ("conseil départemental", "Département"),
        ("Région Occitanie", "Région"),
        ("mairie", "Commune"),
        ("communauté de communes", "Communauté d'agglomération / de communes"),
        ("univ", "Université / recherche"),
        ("cnfpt", "CNFPT"),
        ("Métropole", "Métropole"),
    ],
)
def test_kinds_by_name_alias_or_start(typed: str, kind: str) -> None:
    assert vocab.find_kind(typed, KINDS) == kind


@pytest.mark.parametrize(
    ("typed", "kind"),
    [
        ("prefecure", "Service de l'État"),
        ("metropolle", "Métropole"),
        ("Assurance maladei", "Organisme social"),
    ],
)
def test_kinds_typed_with_one_slip(typed: str, kind: str) -> None:
    assert vocab.find_kind(typed, KINDS) == kind
    assert vocab.find_kind(typed, KINDS, whole=True) is None  # a whole name is exact


@pytest.mark.parametrize("typed", ["", "banane", "zz"])
def test_unknown_kinds(typed: str) -> None:
    assert vocab.find_kind(typed, KINDS) is None


def test_bad_kind_lists_every_kind() -> None:
    with pytest.raises(UserError) as err:
        parse_kind("banane", CFG)
    assert err.value.key == "profil.errors.bad_kind"
    assert err.value.params["value"] == "banane"
    assert "Organisme social" in err.value.params["choices"] and "Commune" in err.value.params["choices"]


# --- territories ------------------------------------------------------------------------
@pytest.mark.parametrize(
    "typed", ["31", "haute garonne", "Haute-Garonne", "HAUTE-GARONNE (31)", "haute-garonne 31", "haute g"]
)
def test_haute_garonne(typed: str) -> None:
    assert vocab.find_territory(typed, TERRITORIES) == "Haute-Garonne (31)"


@pytest.mark.parametrize(
    ("typed", "name"),
    [
        ("9", "Ariège (09)"),
        ("09", "Ariège (09)"),
        ("ariege", "Ariège (09)"),
        ("region", "Région"),
        ("pyr or", "Pyrénées-Orientales (66)"),
        ("lozere", "Lozère (48)"),
        ("tarn", "Tarn (81)"),
    ],
)
def test_territories(typed: str, name: str) -> None:
    assert vocab.find_territory(typed, TERRITORIES) == name


@pytest.mark.parametrize(
    ("typed", "name"),
    [
        ("haute garone", "Haute-Garonne (31)"),
        ("Haute-Garone (31)", "Haute-Garonne (31)"),
        ("heraut", "Hérault (34)"),
        ("pyrenees orientale", "Pyrénées-Orientales (66)"),
        ("tarn et garone", "Tarn-et-Garonne (82)"),
        ("aveyorn", "Aveyron (12)"),  # two letters swapped
    ],
)
def test_territories_typed_with_one_slip(typed: str, name: str) -> None:
    assert vocab.find_territory(typed, TERRITORIES) == name
    assert vocab.find_territory(typed, TERRITORIES, whole=True) is None


@pytest.mark.parametrize("typed", ["gerss", "lott", "haute garonnes pyrenees", "tarn 82", "haute garone 34"])
def test_short_or_far_slips_are_not_guessed(typed: str) -> None:
    assert vocab.find_territory(typed, TERRITORIES) is None


def test_several_territories_in_order_without_repeats() -> None:
    found, unknown = vocab.find_territories("31, 34 et Aude; 31", TERRITORIES)
    assert found == ["Haute-Garonne (31)", "Hérault (34)", "Aude (11)"] and unknown == []
    assert vocab.find_territories("31 32", TERRITORIES) == (["Haute-Garonne (31)", "Gers (32)"], [])
    assert parse_territories("Gers, haute garonne", CFG) == ["Gers (32)", "Haute-Garonne (31)"]


@pytest.mark.parametrize("typed", ["75", "Paris", "haute", ""])
def test_bad_territories(typed: str) -> None:
    with pytest.raises(UserError) as err:
        parse_territories(typed, CFG)
    assert err.value.key == "profil.errors.bad_territory"
    assert "Haute-Garonne (31)" in err.value.params["choices"]


def test_one_bad_territory_among_good_ones_is_named() -> None:
    with pytest.raises(UserError) as err:
        parse_territories("31, Paris", CFG)
    assert err.value.params["value"] == "Paris"


# --- topics -----------------------------------------------------------------------------
def test_tags_normalised_and_deduplicated() -> None:
    assert vocab.normalize_tag("#Design  des Politiques publiques ") == "design des politiques publiques"
    assert parse_tags("Prospective, évaluation; #Evaluation et design de services", CFG) == [
        "prospective",
        "évaluation",
        "design de services",
    ]


def test_too_many_tags() -> None:
    with pytest.raises(UserError) as err:
        parse_tags(", ".join(f"sujet{i}" for i in range(vocab.MAX_TAGS + 1)), CFG)
    assert err.value.key == "profil.errors.too_many_tags"


def test_field_names_in_french_and_english() -> None:
    assert field_named("Compétences").attr == "tags"  # type: ignore[union-attr]
    assert field_named("territory").attr == "territories"  # type: ignore[union-attr]
    assert field_named("type:").attr == "kind"  # type: ignore[union-attr]
    assert field_named("couleur") is None


# --- !annuaire filters -------------------------------------------------------------------
def test_query_words_and_filters() -> None:
    q = parse_query("prospective territoire:31 type:caf competence:Évaluation", CFG).query
    assert (q.text, q.territory, q.kind, q.tag) == (
        "prospective",
        "Haute-Garonne (31)",
        "Organisme social",
        "évaluation",
    )


@pytest.mark.parametrize(
    "raw",
    [
        "Territoire:31 design",
        "territory:31 design",
        "TERRITOIRE: 31 design",
        "département:31 design",
        "design dept:31",
    ],
)
def test_filter_keys_in_french_english_any_case(raw: str) -> None:
    q = parse_query(raw, CFG).query
    assert q.territory == "Haute-Garonne (31)" and q.text == "design"


def test_filter_value_of_several_words() -> None:
    q = parse_query("territoire:haute garonne évaluation", CFG).query
    assert (q.territory, q.text) == ("Haute-Garonne (31)", "évaluation")
    q = parse_query('compétence:"design de services" sujet', CFG).query
    assert (q.tag, q.text) == ("design de services", "sujet")
    q = parse_query("type:service de l'état", CFG).query
    assert q.kind == "Service de l'État" and q.text == ""
    q = parse_query("territoire:tarn et garonne eau", CFG).query
    assert (q.territory, q.text) == ("Tarn-et-Garonne (82)", "eau")
    q = parse_query("territoire:tarn eau", CFG).query
    assert (q.territory, q.text) == ("Tarn (81)", "eau")
    q = parse_query("type:caf evaluation", CFG).query  # « evaluation » is not part of the kind
    assert (q.kind, q.text) == ("Organisme social", "evaluation")
    q = parse_query("Topic:Foresight kind:caf", CFG).query
    assert (q.tag, q.kind) == ("foresight", "Organisme social")


def test_filter_value_with_one_slip() -> None:
    q = parse_query("territoire:haute garone évaluation", CFG).query
    assert (q.territory, q.text) == ("Haute-Garonne (31)", "évaluation")
    q = parse_query("type:prefecure eau", CFG).query
    assert (q.kind, q.text) == ("Service de l'État", "eau")


def test_words_with_colons_that_are_not_filters_stay_words() -> None:
    q = parse_query("https://exemple.fr ville:toulouse", CFG).query
    assert q.text == "https://exemple.fr ville:toulouse" and q.facets() == []


@pytest.mark.parametrize(
    ("raw", "key"),
    [
        ("territoire:paris", "annuaire.errors.bad_territory"),
        ("type:banane", "annuaire.errors.bad_kind"),
        ("territoire:", "annuaire.errors.empty_filter"),
        ("territoire:31 territoire:34", "annuaire.errors.twice"),
        ("territoire:31,34", "annuaire.errors.one_territory"),
    ],
)
def test_bad_filters(raw: str, key: str) -> None:
    with pytest.raises(UserError) as err:
        parse_query(raw, CFG)
    assert err.value.key == key
    if key == "annuaire.errors.bad_territory":
        assert err.value.params["value"] == "paris" and "Haute-Garonne (31)" in err.value.params["choices"]


@pytest.mark.parametrize("locale", ["fr", "en"])
def test_every_search_example_of_the_help_is_understood(locale: str) -> None:
    from bot.i18n import default_catalog

    examples = default_catalog().translator(locale).list("annuaire.examples")
    assert examples
    for example in examples:
        raw = example.split(maxsplit=1)[1] if " " in example else ""
        if raw in ("suite", "more", ""):  # the next page, the counts: no query
            continue
        q = parse_query(raw, CFG).query
        assert ":" not in q.text, example
        assert q.text or q.facets(), example
