"""The resource library's reading of what members type: kinds the French way and
forgiven, the one-line form, the search's filters."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from bot.errors import UserError
from commands.ressources.parsing import SHARED_KINDS, kind_of, parse_new, parse_query

NOW = datetime(2026, 12, 2, 11, 0, tzinfo=ZoneInfo("Europe/Paris"))


@pytest.mark.parametrize(
    ("typed", "kind"),
    [
        ("outil", "outil"),
        ("Outils", "outil"),
        ("méthode", "methode"),
        ("methdoe", "methode"),  # one slip
        ("Retour d'expérience", "retour_experience"),
        ("retours d’expérience", "retour_experience"),
        ("retex", "retour_experience"),
        ("form", "formation"),  # a beginning
        ("bonne pratique", "pratique"),
        ("captations", "captation"),
        ("replay", "captation"),
        ("diaporama", "support"),
    ],
)
def test_kinds(typed: str, kind: str) -> None:
    assert kind_of(typed) == kind


def test_unknown_kinds() -> None:
    assert kind_of("poisson") is None and kind_of("") is None
    assert kind_of("captation", SHARED_KINDS) is None  # members share; recordings are attached


def test_one_line_form() -> None:
    draft = parse_new(
        "Fresque du climat | www.exemple.fr/fresque#atelier | Atelier de 3 h #climat #Agents | outils"
    )
    assert draft.title == "Fresque du climat" and draft.url == "https://www.exemple.fr/fresque#atelier"
    assert draft.description == "Atelier de 3 h" and draft.tags == ["climat", "agents"]
    assert draft.kind == "outil"
    assert parse_new("Guide | https://x.fr/g | Dix fiches type:retex").kind == "retour_experience"
    assert parse_new("Guide | https://x.fr/g").kind == "autre"
    for bad, key in [
        ("Guide", "ressources.errors.fields"),
        ("Guide | pas-un-lien | d", "ressources.errors.bad_link"),
        ("Guide | https://x.fr | d | poisson", "ressources.errors.bad_kind"),
    ]:
        with pytest.raises(UserError) as err:
            parse_new(bad)
        assert err.value.key == key


def test_query_filters() -> None:
    q = parse_query("evaluation type:retour d'expérience depuis:septembre", NOW)
    assert q.text == "evaluation" and q.kinds == ("retour_experience",)
    assert q.since == datetime(2026, 9, 1, tzinfo=ZoneInfo("Europe/Paris"))
    q = parse_query("type:captation,support sobriete depuis:lundi dernier", NOW)
    assert q.kinds == ("captation", "support") and q.text == "sobriete"
    assert q.since is not None and q.since.date().isoformat() == "2026-11-30"
    with pytest.raises(UserError):
        parse_query("type:poisson", NOW)
    with pytest.raises(UserError):
        parse_query("depuis:bientot", NOW)
