"""Locale catalogs: complete in both languages, French typography, plurals, rendering and
dates. The completeness tests cover every catalog directory, so they keep checking the
features' catalogs as they are added."""

from __future__ import annotations

import logging
import re
import string
from datetime import UTC, date, datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot import dates_format
from bot.features import load_features
from bot.formatting import Rich, bold
from bot.i18n import (
    LOCALES,
    NBSP,
    NNBSP,
    Catalog,
    Message,
    Translator,
    _catalog_dirs,
    default_catalog,
    french_typography,
    plural_form,
)

PARIS = ZoneInfo("Europe/Paris")
FR_WEEKDAYS = ["lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche"]


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    load_features()
    return default_catalog()


@pytest.fixture(scope="module")
def fr(catalog: Catalog) -> Translator:
    return catalog.translator("fr", PARIS)


@pytest.fixture(scope="module")
def en(catalog: Catalog) -> Translator:
    return catalog.translator("en", PARIS)


# --- completeness -----------------------------------------------------------------


def _kind(value: Message) -> str:
    return "list" if isinstance(value, list) else "plural" if isinstance(value, dict) else "string"


def _texts(value: Message) -> list[str]:
    if isinstance(value, list):
        return list(value)
    if isinstance(value, dict):
        return list(value.values())
    return [value]


def _placeholders(value: Message) -> set[str]:
    names: set[str] = set()
    for text in _texts(value):
        for _, name, _, _ in string.Formatter().parse(text):
            if name is not None:
                names.add(name)
    return names


def test_every_catalog_directory_is_loaded(catalog: Catalog) -> None:
    assert len(_catalog_dirs) >= 2  # the runtime's and the features'
    for base in _catalog_dirs:
        for loc in LOCALES:
            assert (base / loc).is_dir(), f"{base} has no {loc}/ directory"
    assert "commands.unknown" in catalog.messages["fr"]
    assert "general.ping.pong" in catalog.messages["fr"]  # a feature catalog


def test_every_key_exists_in_every_language(catalog: Catalog) -> None:
    keys = {loc: set(catalog.messages[loc]) for loc in LOCALES}
    every = set().union(*keys.values())
    missing = {loc: sorted(every - keys[loc]) for loc in LOCALES if every - keys[loc]}
    assert not missing, f"keys missing: {missing}"


def test_same_kind_in_every_language(catalog: Catalog) -> None:
    wrong = []
    for key, value in catalog.messages["fr"].items():
        other = catalog.messages["en"].get(key)
        if other is not None and _kind(other) != _kind(value):
            wrong.append(f"{key}: fr {_kind(value)}, en {_kind(other)}")
    assert not wrong, wrong


def test_same_placeholders_in_every_language(catalog: Catalog) -> None:
    wrong = []
    for key, value in catalog.messages["fr"].items():
        other = catalog.messages["en"].get(key)
        if other is not None and _placeholders(value) != _placeholders(other):
            wrong.append(f"{key}: fr {sorted(_placeholders(value))}, en {sorted(_placeholders(other))}")
    assert not wrong, wrong


def test_plural_tables_have_one_and_other(catalog: Catalog) -> None:
    wrong = []
    for loc in LOCALES:
        for key, value in catalog.messages[loc].items():
            if isinstance(value, dict) and not {"one", "other"} <= set(value):
                wrong.append(f"{loc} {key}: {sorted(value)}")
    assert not wrong, wrong


def test_every_template_is_well_formed(catalog: Catalog) -> None:
    wrong = []
    for loc in LOCALES:
        for key, value in catalog.messages[loc].items():
            for text in _texts(value):
                try:
                    list(string.Formatter().parse(text))
                except ValueError as exc:
                    wrong.append(f"{loc} {key}: {exc}")
                if text.count("<b>") != text.count("</b>") or text.count("<i>") != text.count("</i>"):
                    wrong.append(f"{loc} {key}: unbalanced tags")
    assert not wrong, wrong


def test_no_plain_space_left_before_french_punctuation(catalog: Catalog) -> None:
    # The loader puts the no-break spaces; a plain one left means a rule is missing.
    wrong = []
    for key, value in catalog.messages["fr"].items():
        for text in _texts(value):
            if re.search(r" [;!?:](\s|$)", text) or "« " in text or " »" in text:
                wrong.append(f"{key}: {text!r}")
    assert not wrong, wrong


# --- loading ----------------------------------------------------------------------


def _write(base: Path, loc: str, name: str, text: str) -> None:
    (base / loc).mkdir(parents=True, exist_ok=True)
    (base / loc / name).write_text(text, encoding="utf-8")


def test_loading_flattens_tables_and_types_values(tmp_path: Path) -> None:
    for loc in LOCALES:
        _write(
            tmp_path,
            loc,
            "demo.toml",
            '[demo]\ntitle = "T"\nitems = ["a", "b"]\ncount = { one = "{n} x", other = "{n} xs" }\n'
            '[demo.names]\nfr = "français"\nen = "anglais"\n',
        )
    c = Catalog.load([tmp_path])
    assert c.messages["en"]["demo.title"] == "T"
    assert c.messages["en"]["demo.items"] == ["a", "b"]
    assert c.messages["en"]["demo.count"] == {"one": "{n} x", "other": "{n} xs"}
    assert c.messages["en"]["demo.names.fr"] == "français"  # not a plural table


def test_a_key_defined_twice_is_refused(tmp_path: Path) -> None:
    for loc in LOCALES:
        _write(tmp_path, loc, "a.toml", '[x]\ny = "1"\n')
        _write(tmp_path, loc, "b.toml", '[x]\ny = "2"\n')
    with pytest.raises(ValueError, match=r"x\.y"):
        Catalog.load([tmp_path])


def test_non_text_values_are_refused(tmp_path: Path) -> None:
    for loc in LOCALES:
        _write(tmp_path, loc, "a.toml", "[x]\ny = 3\n")
    with pytest.raises(ValueError, match=r"x\.y"):
        Catalog.load([tmp_path])


def test_unknown_locale_falls_back_to_french(catalog: Catalog) -> None:
    assert catalog.translator("de").locale == "fr"
    assert catalog.translator(None).locale == "fr"


# --- French typography ------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("Vraiment ?", f"Vraiment{NNBSP}?"),
        ("Bravo ! Et ensuite ?", f"Bravo{NNBSP}! Et ensuite{NNBSP}?"),
        ("un ; deux", f"un{NNBSP}; deux"),
        ("Usage : {usage}", f"Usage{NBSP}: {{usage}}"),
        ("la clé « {name} »", f"la clé «{NBSP}{{name}}{NBSP}»"),
        ("(voir plus bas !)", f"(voir plus bas{NNBSP}!)"),
        ("<b>Titre :</b> suite", f"<b>Titre{NBSP}:</b> suite"),
    ],
)
def test_french_typography(typed: str, expected: str) -> None:
    assert french_typography(typed) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Tapez !aide pour commencer",
        "Tapez !aide",
        "ou /annuaire",
        "à 12:30",
        "https://example.org:8448/x",
        "@alice:example.org",
        "Déjà collé!",  # typed without a space: left as typed
    ],
)
def test_french_typography_leaves_commands_times_and_ids_alone(text: str) -> None:
    assert french_typography(text) == text


def test_typography_is_applied_on_load_for_french_only(tmp_path: Path) -> None:
    _write(tmp_path, "fr", "t.toml", 'q = "Vraiment ? Tapez !aide : « ok »"\n')
    _write(tmp_path, "en", "t.toml", 'q = "Really ? Type !help : « ok »"\n')
    c = Catalog.load([tmp_path])
    assert c.messages["fr"]["q"] == f"Vraiment{NNBSP}? Tapez !aide{NBSP}: «{NBSP}ok{NBSP}»"
    assert c.messages["en"]["q"] == "Really ? Type !help : « ok »"


def test_loaded_catalog_keeps_command_names(fr: Translator) -> None:
    undecryptable = fr.t("errors.undecryptable")
    assert "Tapez !aide pour voir" in undecryptable
    assert f"chiffré{NBSP}:" in undecryptable


# --- plurals ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("locale", "n", "form"),
    [
        ("fr", 0, "one"),
        ("fr", 1, "one"),
        ("fr", 1.5, "one"),
        ("fr", 2, "other"),
        ("fr", 100, "other"),
        ("en", 0, "other"),
        ("en", 1, "one"),
        ("en", 2, "other"),
    ],
)
def test_plural_form(locale: str, n: float, form: str) -> None:
    assert plural_form(locale, n, {"one": "one", "other": "other"}) == form


def test_zero_form_wins_when_present() -> None:
    forms = {"zero": "zero", "one": "one", "other": "other"}
    assert plural_form("fr", 0, forms) == "zero"
    assert plural_form("en", 0, forms) == "zero"
    assert plural_form("fr", 1, forms) == "one"


def test_plural_messages(fr: Translator, en: Translator) -> None:
    assert fr.t("config.problems", n=0, path="c.toml") == f"0 problème dans c.toml{NBSP}:"
    assert fr.t("config.problems", n=1, path="c.toml") == f"1 problème dans c.toml{NBSP}:"
    assert fr.t("config.problems", n=3, path="c.toml") == f"3 problèmes dans c.toml{NBSP}:"
    assert en.t("config.problems", n=0, path="c.toml") == "0 problems in c.toml:"
    assert en.t("config.problems", n=1, path="c.toml") == "1 problem in c.toml:"


# --- rendering --------------------------------------------------------------------


def test_parameters_are_escaped_but_template_tags_kept(fr: Translator) -> None:
    r = fr.rich("general.aide.title", role="<script>x</script> & co")
    assert r.html.startswith("<b>Ce que je sais faire</b>")
    assert "&lt;script&gt;x&lt;/script&gt; &amp; co" in r.html
    assert "<script>" not in r.html
    assert r.plain.startswith("Ce que je sais faire (vous êtes <script>x</script> & co)")


def test_rich_parameters_are_inserted_as_is(fr: Translator) -> None:
    r = fr.rich("commands.unknown_suggest", command=bold("!annuaire"))
    assert r.html == f"Commande inconnue. Vouliez-vous dire <b>!annuaire</b>{NNBSP}?"
    assert r.plain == f"Commande inconnue. Vouliez-vous dire !annuaire{NNBSP}?"


def test_missing_parameter_is_shown_and_logged(fr: Translator, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.ERROR, logger="bot.i18n"):
        r = fr.rich("args.missing")
    assert "{name}" in r.plain
    assert "missing parameter name" in caplog.text


def test_missing_key_is_shown_and_logged(fr: Translator, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.ERROR, logger="bot.i18n"):
        assert fr.t("nowhere.to.be.found") == "nowhere.to.be.found"
    assert "missing catalog key nowhere.to.be.found" in caplog.text


def test_lists_render_as_lines(fr: Translator) -> None:
    assert fr.list("general.aide.examples") == ["!aide", "!aide annuaire"]
    assert fr.t("general.aide.examples") == "!aide\n!aide annuaire"
    assert fr.list("commands.unknown") == []  # not a list


def test_english_missing_key_falls_back_to_french() -> None:
    c = Catalog({"fr": {"only.fr": "seulement"}, "en": {}})
    en = c.translator("en")
    assert not en.has("only.fr")
    assert en.t("only.fr") == "seulement"


def test_numbers_booleans_and_format_specs(fr: Translator, en: Translator) -> None:
    assert (
        fr.t("args.not_integer", value=1234567)
        == f"«{NBSP}1{NNBSP}234{NNBSP}567{NBSP}» n'est pas un nombre entier."
    )
    assert fr.number(1234.5) == f"1{NNBSP}234,5"
    assert en.number(1234.5) == "1,234.5"
    assert en.number(1234567) == "1,234,567"
    assert fr.value(True).plain == "oui"
    assert en.value(False).plain == "no"
    assert fr.render("{x:03d}", {"x": 7}).plain == "007"
    assert fr.render("{x!r}", {"x": "a"}).plain == "'a'"


# --- dates ------------------------------------------------------------------------


def _this_year() -> int:
    return datetime.now(PARIS).year


def test_date_this_year_without_year(fr: Translator) -> None:
    d = date(_this_year(), 12, 16)
    assert fr.value(d).plain == f"{FR_WEEKDAYS[d.weekday()]} 16 décembre"


def test_date_another_year_with_year(fr: Translator, en: Translator) -> None:
    assert fr.value(date(2020, 12, 15)).plain == "mardi 15 décembre 2020"
    assert en.value(date(2020, 12, 15)).plain == "Tuesday 15 December 2020"


def test_first_of_the_month(fr: Translator, en: Translator) -> None:
    assert fr.value(date(2020, 12, 1)).plain == "mardi 1er décembre 2020"
    assert en.value(date(2020, 12, 1)).plain == "Tuesday 1 December 2020"


def test_datetime_on_the_hour_and_with_minutes(fr: Translator, en: Translator) -> None:
    at_two = datetime(2020, 12, 15, 14, 0, tzinfo=PARIS)
    assert fr.value(at_two).plain == "mardi 15 décembre 2020 à 14 h"
    assert en.value(at_two).plain == "Tuesday 15 December 2020 at 14:00"
    half_nine = datetime(2020, 12, 15, 9, 30, tzinfo=PARIS)
    assert fr.value(half_nine).plain == "mardi 15 décembre 2020 à 9 h 30"
    assert en.value(half_nine).plain == "Tuesday 15 December 2020 at 9:30"
    assert fr.value(datetime(2020, 12, 15, 9, 5, tzinfo=PARIS)).plain.endswith("à 9 h 05")


def test_datetime_this_year(fr: Translator) -> None:
    moment = datetime(_this_year(), 12, 16, 14, 0, tzinfo=PARIS)
    assert fr.value(moment).plain == f"{FR_WEEKDAYS[moment.weekday()]} 16 décembre à 14 h"


def test_utc_datetimes_are_shown_in_the_configured_zone(fr: Translator) -> None:
    winter = datetime(2020, 12, 15, 13, 0, tzinfo=UTC)
    assert fr.value(winter).plain == "mardi 15 décembre 2020 à 14 h"
    summer = datetime(2020, 7, 14, 8, 30, tzinfo=UTC)
    assert fr.value(summer).plain == "mardi 14 juillet 2020 à 10 h 30"


def test_date_and_time_styles(fr: Translator) -> None:
    moment = datetime(2020, 12, 15, 14, 0, tzinfo=PARIS)
    assert fr.render("{d:time}", {"d": moment}).plain == "14 h"
    assert fr.render("{d:date}", {"d": moment}).plain == "mardi 15 décembre 2020"
    assert fr.render("{d:short}", {"d": moment}).plain == "15/12/2020"
    assert fr.render("{d:iso}", {"d": date(2020, 12, 15)}).plain == "2020-12-15"
    assert fr.render("{d:day_month}", {"d": date(2020, 12, 1)}).plain == "1er décembre"
    assert dates_format.format_time(time(9, 0), fr) == "9 h"


def test_dates_inside_messages_are_plain_text(fr: Translator) -> None:
    r = fr.render("Le {d}.", {"d": datetime(2020, 12, 15, 14, 0, tzinfo=PARIS)})
    assert r == Rich("Le mardi 15 décembre 2020 à 14 h.", "Le mardi 15 décembre 2020 à 14 h.")


def test_every_personal_data_source_has_a_label(catalog: Catalog) -> None:
    # `!mes-donnees` and `!oublier-moi` name each source from the catalog: a feature that
    # registers one must describe it in both languages.
    from bot.registry import REGISTRY

    names = [source.name for source in REGISTRY.personal_data]
    assert {"runtime", "signaux", "profil", "accueil"} <= set(names)
    for locale in ("fr", "en"):
        tr = catalog.translator(locale, ZoneInfo("Europe/Paris"))
        assert [n for n in names if not tr.has(f"donnees.sources.{n}")] == []


def test_quotes_typed_are_not_doubled(fr: Translator) -> None:
    # « Personne ne correspond à « "design de services" » » read « « design de services » ».
    said = fr.t("args.not_integer", value='"design de services"')
    assert said == "«\u00a0design de services\u00a0» n'est pas un nombre entier."
    assert fr.t("args.not_integer", value="« douze »") == "«\u00a0douze\u00a0» n'est pas un nombre entier."
    assert fr.t("args.not_integer", value='un "mot"') == '«\u00a0un "mot"\u00a0» n\'est pas un nombre entier.'


def test_a_field_is_named_as_the_profile_shows_it(fr: Translator, en: Translator) -> None:
    from typing import Any, cast

    from bot.errors import UserError
    from commands.annuaire.fields import parse_bio

    with pytest.raises(UserError) as info:
        parse_bio("   ", cast(Any, None))
    said = fr.t(info.value.key, **info.value.params)
    assert said == "Le champ «\u00a0Présentation\u00a0» ne peut pas être vide."  # not « presentation »
    assert en.t(info.value.key, **info.value.params) == "The field “Introduction” cannot be empty."
