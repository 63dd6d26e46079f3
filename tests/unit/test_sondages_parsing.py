"""Reading `!sondage` and `!vote`, and rendering the results."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from bot.errors import UserError
from bot.i18n import default_catalog
from commands.sondages.counting import NPS, PULSE, tally
from commands.sondages.parsing import (
    GOVERNANCE,
    parse_survey,
    read_choice,
    split_options,
    split_vote,
    survey_number,
)
from commands.sondages.render import SurveyView, bar, fallback_text, listing, results

PARIS = ZoneInfo("Europe/Paris")


def nb(text: str) -> str:
    return text.replace("\u00a0", " ").replace("\u202f", " ")


def fails(text: str) -> str:
    with pytest.raises(UserError) as err:
        parse_survey(text)
    return err.value.key


def test_question_answers_and_options() -> None:
    draft = parse_survey(
        '"Le réseau vous a-t-il été utile ?" « Oui, beaucoup » "Un peu" Non '
        '--multiple 2 --anonyme --cache --fin "vendredi 18h" --pour gouvernance'
    )
    assert draft.question == "Le réseau vous a-t-il été utile ?"
    assert draft.answers == ["Oui, beaucoup", "Un peu", "Non"]
    o = draft.options
    assert (o.multiple, o.anonymous, o.hidden, o.deadline, o.audience) == (
        2,
        True,
        True,
        "vendredi 18h",
        GOVERNANCE,
    )


def test_unquoted_forms_and_dashes() -> None:
    draft = parse_survey("On se retrouve à Albi ? oui non peut-être —fin dans 10 minutes —Anonyme")
    assert draft.question == "On se retrouve à Albi ?"
    assert draft.answers == ["oui", "non", "peut-être"]
    assert draft.options.deadline == "dans 10 minutes" and draft.options.anonymous
    # --multiple without a number: as many as there are answers.
    assert parse_survey('"Q" A B C --multiple').options.multiple == 3
    assert parse_survey('"Q" A B --for governance').options.audience == GOVERNANCE
    assert parse_survey('"Q" A B --end 3j').options.deadline == "3j"


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("", "sondages.errors.no_question"),
        ('"Q ?" seule', "sondages.errors.too_few_answers"),
        ("Pizza Pâtes Salade", "sondages.errors.quote_question"),
        ('"Q" A a', "sondages.errors.duplicate_answer"),
        ('"Q" A ""', "sondages.errors.empty_answer"),
        ('"Q" A B --multiple 3', "sondages.errors.bad_multiple"),
        ('"Q" A B --couleur rouge', "sondages.errors.unknown_option"),
        ('"Q" A B --pour tous', "sondages.errors.bad_audience"),
        ('"Q" A B --fin', "sondages.errors.missing_deadline"),
        ('"Q" A B --duree 3j', "sondages.errors.option_not_here"),
        ('"Q" ' + " ".join(f"r{i}" for i in range(21)), "sondages.errors.too_many_answers"),
        ('"' + "x" * 501 + '" A B', "sondages.errors.question_too_long"),
    ],
)
def test_bad_surveys_say_what_is_wrong(text: str, key: str) -> None:
    assert fails(text) == key


def test_split_options_keeps_the_words() -> None:
    words, options = split_options("chaque mois « Êtes-vous satisfait ? » --duree 7j --pour gouvernance")
    assert [w.text for w in words] == ["chaque", "mois", "Êtes-vous satisfait ?"]
    assert words[2].quoted and options.duration == "7j" and options.audience == GOVERNANCE


def test_vote_number_and_choice() -> None:
    assert split_vote("4 2") == (4, "2")
    assert split_vote("n°4 Plutôt oui") == (4, "Plutôt oui")
    assert split_vote("#12 oui") == (12, "oui")
    assert split_vote("2") == (None, "2")
    assert split_vote("Plutôt oui") == (None, "Plutôt oui")
    assert survey_number("nps") is None and survey_number("No7") == 7


def test_choices_by_text_number_or_beginning() -> None:
    answers = ["Oui, beaucoup", "Un peu", "Pas du tout"]
    assert read_choice("2", answers, 1) == [1]
    assert read_choice("un peu", answers, 1) == [1]
    assert read_choice("« Pas du tout »", answers, 1) == [2]
    assert read_choice("pas d", answers, 1) == [2]  # a unique beginning
    assert read_choice("oui, beaucoup", answers, 1) == [0]  # a whole answer with a comma
    assert read_choice("1, 3", answers, 2) == [0, 2]
    assert read_choice("1 et 3", answers, 3) == [0, 2]
    assert read_choice("1 3", answers, 3) == [0, 2]
    with pytest.raises(UserError) as err:
        read_choice("1, 3", answers, 1)
    assert err.value.key == "sondages.errors.too_many_choices"
    with pytest.raises(UserError) as err:
        read_choice("7", answers, 1)
    assert err.value.key == "sondages.errors.unknown_choice"
    with pytest.raises(UserError):
        read_choice("", answers, 1)
    # On a 0–10 scale the text wins: « 7 » is the answer « 7 », the eighth.
    scale = [str(i) for i in range(11)]
    assert read_choice("7", scale, 1) == [7] and read_choice("0", scale, 1) == [0]


def test_bars() -> None:
    assert bar(0.6) == "██████░░░░"
    assert bar(0) == "░░░░░░░░░░" and bar(1) == "██████████"
    assert bar(0.01) == "█░░░░░░░░░"  # one vote never looks like none


def tr(locale: str = "fr"):  # type: ignore[no-untyped-def]
    return default_catalog().translator(locale, PARIS)


VIEW = SurveyView(number=4, question="Le réseau vous a-t-il été utile ?", answers=["Oui", "Non", "Sans avis"])


def test_fallback_says_how_to_vote() -> None:
    closes = datetime(2026, 3, 6, 17, 0, tzinfo=UTC)
    view = SurveyView(
        number=4,
        question="Où ?",
        answers=["Albi", "Sète"],
        max_selections=2,
        governance=True,
        hidden=True,
        closes_at=closes,
    )
    text = nb(fallback_text(tr(), view))
    assert text.splitlines()[:3] == ["Sondage n° 4 : « Où ? »", "1. Albi", "2. Sète"]
    assert "jusqu'à 2 choix" in text and "gouvernance" in text and "à la clôture" in text
    assert "vendredi 6 mars à 18 h" in text
    assert "!vote 4" in text.splitlines()[-1]
    assert "!vote 4" in fallback_text(tr("en"), view)


def test_results_with_bars_participation_and_scores() -> None:
    text = nb(
        results(tr(), VIEW, tally({0b001: 6, 0b010: 4}, 3), respondents=10, eligible=31, threshold=5).plain
    )
    lines = text.splitlines()
    assert lines[0].startswith("📊 Sondage n° 4 : « Le réseau vous a-t-il été utile ? »")
    assert lines[1] == "██████░░░░ 60 % · 6 — Oui"
    assert lines[2] == "████░░░░░░ 40 % · 4 — Non"
    assert lines[3] == "░░░░░░░░░░ 0 % · 0 — Sans avis"
    assert lines[4] == "10 réponses sur 31 membres éligibles (32 %)"
    pulse = SurveyView(number=5, question="Utile ?", answers=["1", "2", "3", "4", "5"], kind=PULSE)
    text = nb(
        results(
            tr(), pulse, tally({0b01000: 3, 0b10000: 1}, 5), respondents=4, eligible=None, threshold=5
        ).plain
    )
    assert "Note moyenne : 4,2 / 5" in text and "4 réponses" in text
    nps = SurveyView(
        number=6, question="Recommanderiez-vous ?", answers=[str(i) for i in range(11)], kind=NPS
    )
    text = nb(
        results(tr(), nps, tally({1 << 10: 3, 1 << 2: 1}, 11), respondents=4, eligible=8, threshold=5).plain
    )
    assert "NPS : +50" in text


def test_anonymous_results_hidden_below_the_threshold() -> None:
    view = SurveyView(
        number=7, question="Q ?", answers=["A", "B"], anonymous=True, closed_at=datetime.now(UTC)
    )
    text = nb(results(tr(), view, None, respondents=3, eligible=20, threshold=5).plain)
    assert "🔒" in text and "3 réponses sur 20" in text and "moins de 5 réponses" in text.lower()
    assert "A" not in text.split("\n", 1)[1].replace("aucun", "")  # no answer shown


def test_listing() -> None:
    now = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    items = [
        (SurveyView(number=5, question="Q5 ?", answers=["a", "b"], anonymous=True, closes_at=now), 7, None),
        (SurveyView(number=4, question="Q4 ?", answers=["a", "b"], closes_at=now, closed_at=now), 12, 31),
    ]
    text = nb(listing(tr(), items).plain)
    assert "n° 5 🔒 « Q5 ? »" in text and "7 réponses" in text
    assert "12 réponses sur 31 membres éligibles" in text
    assert "!sondage" in nb(listing(tr(), []).plain)
