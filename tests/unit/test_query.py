"""The search grammar shared by !annuaire, !signaux and !ressources (`bot.query`)."""

from __future__ import annotations

import asyncio

import pytest

from bot.errors import UserError
from bot.query import Grammar, Key, aliases, offer_as_filter, searched_words

CITIES = ("toulouse", "saint girons", "saint gaudens", "tarn", "tarn et garonne")


def _city_whole(text: str) -> bool:
    return text.lower() in CITIES


def _city_near(text: str) -> bool:
    return sum(c.startswith(text.lower()) for c in CITIES) == 1


CITY = Key("city", whole=_city_whole, partial=_city_near)
GRAMMAR = Grammar(
    {**aliases(CITY, "ville", "City"), **aliases(Key("tag"), "sujet", "topic")}, errors="t.errors"
)


def _terms(raw: str, grammar: Grammar = GRAMMAR) -> tuple[str, list[tuple[str, str]]]:
    parsed = grammar.parse(raw)
    return parsed.text, [(t.key, t.value) for t in parsed.terms]


@pytest.mark.parametrize(
    ("raw", "text", "terms"),
    [
        ("eau ville:toulouse", "eau", [("city", "toulouse")]),
        ("VILLE:toulouse eau", "eau", [("city", "toulouse")]),  # any case
        ("ville: toulouse eau", "eau", [("city", "toulouse")]),  # a space after the colon
        ("ville : toulouse eau", "eau", [("city", "toulouse")]),  # and before it
        ("city:toulouse", "", [("city", "toulouse")]),  # an alias
        # the longest run of words that is a whole value
        ("ville:tarn et garonne eau", "eau", [("city", "tarn et garonne")]),
        ("ville:tarn eau", "eau", [("city", "tarn")]),
        # else the shortest that names one
        ("ville:saint gir eau", "eau", [("city", "saint gir")]),
        # else the first word alone (the feature says what it names)
        ("ville:paris eau", "eau", [("city", "paris")]),
        # a key with no vocabulary takes one word
        ("sujet:design de services", "de services", [("tag", "design")]),
    ],
)
def test_filters_and_words(raw: str, text: str, terms: list[tuple[str, str]]) -> None:
    assert _terms(raw) == (text, terms)


@pytest.mark.parametrize(
    "raw",
    ['sujet:"design de services" eau', "sujet:« design de services » eau", "sujet:“design de services” eau"],
)
def test_one_quote_table(raw: str) -> None:
    assert _terms(raw) == ("eau", [("tag", "design de services")])


def test_an_unclosed_quote_runs_to_the_end_and_what_follows_a_closing_one_is_read_on() -> None:
    assert _terms('sujet:"design de services') == ("", [("tag", "design de services")])
    assert _terms('sujet:"design", eau') == (", eau", [("tag", "design")])


def test_a_value_stops_at_the_next_filter() -> None:
    assert _terms("ville:tarn sujet:eau") == ("", [("city", "tarn"), ("tag", "eau")])


def test_what_a_bad_value_echoes_is_all_the_member_may_have_meant() -> None:
    (term,) = GRAMMAR.parse("ville:n importe quoi").terms
    assert (term.value, term.run, term.typed_key) == ("n", "n importe quoi", "ville")


def test_unknown_keys_are_words_unless_the_grammar_is_strict() -> None:
    assert _terms("https://exemple.fr couleur:bleu") == ("https://exemple.fr couleur:bleu", [])
    strict = Grammar(GRAMMAR.keys, errors="t.errors", strict=True)
    with pytest.raises(UserError) as err:
        strict.parse("eau couleur:bleu")
    assert (err.value.key, err.value.params["name"]) == ("t.errors.bad_filter", "couleur")
    assert _terms("10:30 ville:tarn", strict) == ("10:30", [("city", "tarn")])  # not a word: a time


@pytest.mark.parametrize("raw", ["ville:", "eau ville:", 'ville:""', "ville: sujet:eau"])
def test_an_empty_filter_is_an_error(raw: str) -> None:
    with pytest.raises(UserError) as err:
        GRAMMAR.parse(raw)
    assert (err.value.key, err.value.params["name"]) == ("t.errors.empty_filter", "ville")


def test_a_value_runs_over_at_most_five_words() -> None:
    long = Key("x", whole=lambda text: True)
    grammar = Grammar(aliases(long, "x"), errors="t.errors")
    assert _terms("x:a b c d e f g", grammar) == ("f g", [("x", "a b c d e")])


def test_searched_words_offers_each_distinct_word_once_and_builds_rewrites_on_demand() -> None:
    typed = "xy " * 19_000 + "prefecture territoire:31"
    found = list(searched_words(typed, "xy " * 19_000 + "prefecture"))
    assert [w.word for w in found] == ["xy", "prefecture"]  # not 19 001 rewrites
    prefecture = found[1]
    assert prefecture.position == 19_000
    assert prefecture.rest == " ".join(["xy"] * 19_000)
    assert prefecture.as_filter("type").endswith("xy type:prefecture territoire:31")


def test_searched_words_rest_drops_one_occurrence() -> None:
    (first, second) = searched_words("cpam velo cpam", "cpam velo cpam")
    assert (first.word, first.rest) == ("cpam", "velo cpam")
    assert (second.word, second.rest) == ("velo", "cpam cpam")


def test_the_offer_rewrites_the_first_word_that_finds_something_as_a_filter() -> None:
    tried: list[tuple[str, str]] = []

    async def finds(word: str, rest: str) -> str | None:
        tried.append((word, rest))
        return "type" if word in ("cpam", "caf") else None

    offer = asyncio.run(offer_as_filter("velo cpam caf ville:tarn", "velo cpam caf", finds))
    assert offer == "velo type:cpam caf ville:tarn"
    assert tried == [("velo", "cpam caf"), ("cpam", "velo caf")]

    async def never(word: str, rest: str) -> str | None:
        return None

    assert asyncio.run(offer_as_filter("velo", "velo", never)) is None
