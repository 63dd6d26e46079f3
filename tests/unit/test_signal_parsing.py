"""The one-line form, links, vocabularies and `!signaux` filters (no database)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from bot.errors import UserError
from commands import signal_parsing as sp
from commands.directory_vocab import DEFAULT_TERRITORIES

PARIS = ZoneInfo("Europe/Paris")
NOW = datetime(2026, 11, 25, 10, 0, tzinfo=PARIS)
TERRITORIES = ["Hérault (34)", "Haute-Garonne (31)", "Hautes-Pyrénées (65)", "Région", "Hors Occitanie"]


def error_key(fn, *args, **kwargs) -> str:  # type: ignore[no-untyped-def]
    with pytest.raises(UserError) as info:
        fn(*args, **kwargs)
    return info.value.key


def test_pipes_fields_and_tags() -> None:
    d = sp.parse_one_line(
        "Les assureurs quittent le littoral | https://exemple.fr/a#x "
        "| Deux assureurs partent #Inondation #assurance"
    )
    assert d.title == "Les assureurs quittent le littoral"
    assert d.url == "https://exemple.fr/a#x"  # a fragment is not a tag
    assert d.observation == "Deux assureurs partent"
    assert d.tags == ["inondation", "assurance"]
    assert d.why == ""


def test_fourth_field_is_why_and_tags_anywhere() -> None:
    d = sp.parse_one_line("#eau Titre du signal | https://a.fr | vu | parce que #eau #sécheresse")
    assert (d.title, d.observation, d.why) == ("Titre du signal", "vu", "parce que")
    assert d.tags == ["eau", "sécheresse"]


def test_without_pipes_a_link_in_the_text_is_understood() -> None:
    d = sp.parse_one_line("Canicule précoce à Toulouse https://www.meteo.fr/x record de mai")
    assert d.title == "Canicule précoce à Toulouse"
    assert d.url == "https://www.meteo.fr/x"
    assert d.observation == "record de mai"


def test_www_gets_https_and_empty_link_is_allowed() -> None:
    assert sp.parse_one_line("Titre | www.exemple.fr/page | vu").url == "https://www.exemple.fr/page"
    d = sp.parse_one_line("Rivière à sec en juin | | constaté sur le terrain à Lodève")
    assert d.url is None and d.observation.startswith("constaté")


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("", "signaux.errors.no_title"),
        (" | https://a.fr | vu", "signaux.errors.no_title"),
        ("Un titre tout seul", "signaux.errors.nothing_observed"),
        ("Titre | ftp://a.fr/x | vu", "signaux.errors.url"),
        ("Titre | pas un lien | vu", "signaux.errors.url"),
        ("Titre | vu sur place | https://a.fr", "signaux.errors.link_second"),
        ("https://a.fr/x | Les assureurs partent | vu", "signaux.errors.link_second"),
        ("a | b | c | d | e", "signaux.errors.too_many_fields"),
        ("ab | https://a.fr | vu", "signaux.errors.title_short"),
        ("T" * 201 + " | https://a.fr | vu", "signaux.errors.title_long"),
        ("Titre | https://a.fr | " + "x" * 2001, "signaux.errors.observation_long"),
        (
            "Titre | https://a.fr | vu " + " ".join(f"#t{i}x" for i in range(11)),
            "signaux.errors.too_many_tags",
        ),
    ],
)
def test_one_line_errors(text: str, key: str) -> None:
    assert error_key(sp.parse_one_line, text) == key


def test_url_key_identifies_the_same_page() -> None:
    a = sp.url_key("https://www.Exemple.fr/article/?utm_source=tw&id=3#commentaires")
    b = sp.url_key("http://exemple.fr/article?id=3&fbclid=abc")
    assert a == b == "exemple.fr/article?id=3"
    assert sp.url_key("https://exemple.fr/article?id=4") != a
    assert sp.url_key("https://exemple.fr:8443/a") == "exemple.fr:8443/a"


@pytest.mark.parametrize("raw", ["javascript:alert(1)", "https://", "http:// a.fr", "mailto:a@b.fr"])
def test_clean_url_refuses(raw: str) -> None:
    assert error_key(sp.clean_url, raw) == "signaux.errors.url"


LABELS = {"environnemental": "Environnemental", "economique": "Économique", "legal": "Légal"}


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("Environnemental", "environnemental"),
        ("env", "environnemental"),
        ("ÉCONOMIQUE", "economique"),
        ("economic", "economique"),
        ("4", "environnemental"),
        ("légal", "legal"),
        ("techno", "technologique"),
    ],
)
def test_category_choice(raw: str, code: str) -> None:
    assert sp.choice("category", raw, LABELS) == code


def test_category_outside_the_configured_subset_is_refused() -> None:
    with pytest.raises(UserError):
        sp.choice("category", "légal", LABELS, ["social", "environnemental"])
    assert sp.choice("category", "2", LABELS, ["social", "environnemental"]) == "environnemental"


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("1", "moins_1an"),
        ("≤ 1 an", "moins_1an"),
        ("moins d'un an", "moins_1an"),
        ("1-3", "1_3ans"),
        ("1 à 3 ans", "1_3ans"),
        ("3–10 ans", "3_10ans"),
        ("> 10 ans", "plus_10ans"),
        ("plus de 10 ans", "plus_10ans"),
        ("1 to 3 years", "1_3ans"),
    ],
)
def test_horizon_choice(raw: str, code: str) -> None:
    assert sp.choice("horizon", raw, {}) == code


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("signal faible", "signal_faible"),
        ("Tendance émergente", "tendance_emergente"),
        ("wildcard", "wild_card"),
    ],
)
def test_nature_choice(raw: str, code: str) -> None:
    assert sp.choice("nature", raw, {}) == code


def test_bad_choices_name_the_vocabulary() -> None:
    assert error_key(sp.choice, "nature", "banane", {}) == "signaux.errors.bad_nature"
    assert error_key(sp.choice, "horizon", "demain", {}) == "signaux.errors.bad_horizon"


def test_territories_by_name_or_number() -> None:
    assert sp.territory("34", TERRITORIES) == "Hérault (34)"
    assert sp.territory("herault", TERRITORIES) == "Hérault (34)"
    assert sp.territory("Haute-Garonne", TERRITORIES) == "Haute-Garonne (31)"
    assert sp.territory("region", TERRITORIES) == "Région"
    with pytest.raises(UserError) as info:
        sp.territory("Paris", TERRITORIES)
    assert "Hérault (34)" in info.value.params["choices"]
    # « haute » starts two names: ambiguous, refused rather than guessed.
    assert error_key(sp.territory, "haute", TERRITORIES) == "signaux.errors.bad_territory"


def test_signal_ids() -> None:
    assert sp.signal_id("42") == sp.signal_id("#42") == sp.signal_id("n°42") == 42
    assert error_key(sp.signal_id, "quarante") == "signaux.errors.bad_id"
    assert error_key(sp.signal_id, "0") == "signaux.errors.bad_id"


def test_tags_typed_as_a_list() -> None:
    assert sp.parse_tags("#eau, agriculture ; #EAU") == ["eau", "agriculture"]


def _query(raw: str) -> sp.Query:
    return sp.parse_query(
        raw,
        NOW,
        category_labels=LABELS,
        nature_labels={},
        categories=sp.CATEGORIES,
        territories=TERRITORIES,
    )


def test_query_words_and_filters() -> None:
    q = _query("sécheresse agriculture categorie:env nature:rupture territoire:34 depuis:01/10")
    assert q.text == "sécheresse agriculture"
    assert (q.category, q.nature, q.territory) == ("environnemental", "rupture", "Hérault (34)")
    assert q.since is not None and q.since.date().isoformat() == "2026-10-01"


def test_a_date_not_understood_is_echoed_as_typed() -> None:
    with pytest.raises(UserError) as info:
        _query("depuis:n importe quoi")
    assert info.value.key == "signaux.errors.bad_since"
    assert info.value.params["value"] == "n importe quoi"  # not « n »


def test_query_quoted_date_and_week() -> None:
    q = _query('depuis:"il y a 2 semaines"')
    assert q.since is not None and q.since.date().isoformat() == "2026-11-11"
    q = _query("semaine eau")
    assert q.week and q.text == "eau" and q.since is not None and (NOW - q.since).days == 7
    assert _query("statut:retenu page:2").status == "retained"
    assert _query("statut:retenu page:2").page == 2


@pytest.mark.parametrize(
    ("raw", "text", "found"),
    [
        ("depuis:lundi dernier sécheresse", "sécheresse", {"since": "2026-11-23"}),
        (
            "eau depuis:1er septembre 2025 categorie:env",
            "eau",
            {"since": "2025-09-01", "category": "environnemental"},
        ),
        ("depuis:12 mars sols secs", "sols secs", {"since": "2026-03-12"}),
        ("depuis:septembre canicule", "canicule", {"since": "2026-09-01"}),
        ("depuis:hier canicule", "canicule", {"since": "2026-11-24"}),
        ("depuis:il y a 2 semaines eau", "eau", {"since": "2026-11-11"}),
        ("nature:signal faible eau", "eau", {"nature": "signal_faible"}),
        ("nature:wild card", "", {"nature": "wild_card"}),
        ("territoire:haute garonne canicule", "canicule", {"territory": "Haute-Garonne (31)"}),
        ("territoire:haute garone canicule", "canicule", {"territory": "Haute-Garonne (31)"}),
        ("territoire:hautes pyrenees neige", "neige", {"territory": "Hautes-Pyrénées (65)"}),
        ("territoire:34 eau potable", "eau potable", {"territory": "Hérault (34)"}),
    ],
)
def test_filter_values_of_several_words(raw: str, text: str, found: dict[str, str]) -> None:
    q = _query(raw)
    assert q.text == text
    for key, value in found.items():
        got = getattr(q, key)
        assert (got.date().isoformat() if key == "since" else got) == value


@pytest.mark.parametrize(
    ("raw", "key"),
    [
        ("couleur:bleu", "signaux.errors.bad_filter"),
        ("depuis:bientot-peut-etre", "signaux.errors.bad_since"),
        ("depuis:32 novembre", "signaux.errors.bad_since"),
        ("depuis:32", "signaux.errors.bad_since"),
        ("statut:perdu", "signaux.errors.bad_status"),
        ("categorie:banane", "signaux.errors.bad_category"),
        ("page:0", "signaux.errors.bad_page"),
    ],
)
def test_query_errors(raw: str, key: str) -> None:
    assert error_key(_query, raw) == key


@pytest.mark.parametrize("locale", ["fr", "en"])
def test_every_search_example_of_the_help_is_understood(locale: str) -> None:
    from bot.i18n import default_catalog

    tr = default_catalog().translator(locale)
    examples = tr.list("signaux.signaux.examples")
    assert examples
    for example in examples:
        raw = example.split(maxsplit=1)[1] if " " in example else ""
        q = sp.parse_query(
            raw,
            NOW,
            category_labels={c: tr.t(f"signaux.categories.{c}") for c in sp.CATEGORIES},
            nature_labels={n: tr.t(f"signaux.natures.{n}") for n in sp.NATURES},
            categories=sp.CATEGORIES,
            territories=DEFAULT_TERRITORIES,
        )
        filters = (q.category, q.nature, q.territory, q.since)
        # A filter's words are never left in the searched text.
        assert ":" not in q.text and not ({"dernier", "last", "garonne"} & set(q.text.split())), example
        assert q.text or q.week or any(f is not None for f in filters), example


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Sécheresse record dans le Gers", "Gers (32)"),
        ("Canicule à Toulouse, puis Montpellier", "Haute-Garonne (31)"),  # the first named
        ("Les nappes de l'Aude au plus bas", "Aude (11)"),
        ("Inondations dans le Tarn-et-Garonne", "Tarn-et-Garonne (82)"),
        ("Sète face à la mer", "Hérault (34)"),
        ("Un lot de 12 logements", None),
        ("Aude Martin témoigne", None),
        ("Rien de localisé", None),
    ],
)
def test_the_territory_a_text_names(text: str, expected: str | None) -> None:
    assert sp.named_territory(text, DEFAULT_TERRITORIES) == expected
