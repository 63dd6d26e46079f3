"""What members schedule (`parse_when`), delays (`parse_delay`, `Delay`), and how the bot
writes them back (`format_when`, `format_delay`), with a frozen `now` in Europe/Paris."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from pydantic import BaseModel, ValidationError

import bot.dates
from bot.dates import (
    MAX_PHRASE_CHARS,
    MAX_PHRASE_WORDS,
    DateError,
    Delay,
    When,
    parse_date,
    parse_datetime,
    parse_delay,
    parse_when,
)
from bot.dates_format import format_delay, format_when
from bot.i18n import Catalog, Translator

PARIS = ZoneInfo("Europe/Paris")
# Wednesday 10 December 2025, 15:00 in Paris.
NOW = datetime(2025, 12, 10, 15, 0, tzinfo=PARIS)


def plain(text: str) -> str:
    """French typography's non-breaking spaces as plain ones, to compare with a literal."""
    return text.replace("\u00a0", " ").replace("\u202f", " ")


def at(y: int, mo: int, d: int, h: int = 0, mi: int = 0, s: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, s, tzinfo=PARIS)


@pytest.fixture(scope="module")
def fr() -> Translator:
    return Catalog.load([Path(bot.dates.__file__).parent / "locales"]).translator("fr", PARIS)


@pytest.fixture(scope="module")
def en() -> Translator:
    return Catalog.load([Path(bot.dates.__file__).parent / "locales"]).translator("en", PARIS)


# --- the table: phrase → start, end (None: a moment), whether a time was typed -------------

PHRASES: list[tuple[str, datetime, datetime | None, bool]] = [
    # the examples
    ("mardi prochain 14h", at(2025, 12, 16, 14), None, True),
    ("16/12 à 9h30", at(2025, 12, 16, 9, 30), None, True),
    ("16 décembre 2026 14:00-15:30", at(2026, 12, 16, 14), at(2026, 12, 16, 15, 30), True),
    ("demain 10h", at(2025, 12, 11, 10), None, True),
    ("dans 10 minutes", at(2025, 12, 10, 15, 10), None, True),
    ("vendredi 18h", at(2025, 12, 12, 18), None, True),
    ("3j", at(2025, 12, 13, 15), None, True),
    # delays as moments, exact to the second
    ("dans 2 heures", at(2025, 12, 10, 17), None, True),
    ("dans 1h30", at(2025, 12, 10, 16, 30), None, True),
    ("dans une demi-heure", at(2025, 12, 10, 15, 30), None, True),
    ("dans deux jours", at(2025, 12, 12, 15), None, True),
    ("30s", at(2025, 12, 10, 15, 0, 30), None, True),
    ("90 min", at(2025, 12, 10, 16, 30), None, True),
    ("2 semaines", at(2025, 12, 24, 15), None, True),
    ("dans 1 mois", at(2026, 1, 10, 15), None, True),
    # seconds typed
    ("14:30:15", at(2025, 12, 11, 14, 30, 15), None, True),
    ("16 décembre 2026 14h00m30s", at(2026, 12, 16, 14, 0, 30), None, True),
    ("demain 9 h 05 min 10 s", at(2025, 12, 11, 9, 5, 10), None, True),
    # ranges
    ("de 14h à 15h30", at(2025, 12, 11, 14), at(2025, 12, 11, 15, 30), True),
    ("16/12 de 14h à 15h30", at(2025, 12, 16, 14), at(2025, 12, 16, 15, 30), True),
    ("mardi 16 décembre 14h-15h", at(2025, 12, 16, 14), at(2025, 12, 16, 15), True),
    ("16/12/2026 9h30 à 11h", at(2026, 12, 16, 9, 30), at(2026, 12, 16, 11), True),
    ("16/12 14h jusqu'à 17h", at(2025, 12, 16, 14), at(2025, 12, 16, 17), True),
    ("du 16/12 14h au 17/12 10h", at(2025, 12, 16, 14), at(2025, 12, 17, 10), True),
    ("mardi 14h à mercredi 10h", at(2025, 12, 16, 14), at(2025, 12, 17, 10), True),
    ("entre 14h et 15h", at(2025, 12, 11, 14), at(2025, 12, 11, 15), True),
    ("du 16 au 18 décembre", at(2025, 12, 16), at(2025, 12, 19), False),  # end exclusive
    ("du 30 décembre au 2 janvier", at(2025, 12, 30), at(2026, 1, 3), False),
    # a date alone, a time alone (today if still ahead, otherwise tomorrow)
    ("16/12", at(2025, 12, 16), None, False),
    ("vendredi", at(2025, 12, 12), None, False),
    ("16h", at(2025, 12, 10, 16), None, True),
    ("14h", at(2025, 12, 11, 14), None, True),
    ("15h", at(2025, 12, 11, 15), None, True),  # now itself counts as past
    ("midi", at(2025, 12, 11, 12), None, True),
    ("demain midi", at(2025, 12, 11, 12), None, True),
    ("8h du soir", at(2025, 12, 10, 20), None, True),
    ("à 14 heures", at(2025, 12, 11, 14), None, True),
    # the turn of the year
    ("3 janvier", at(2026, 1, 3), None, False),
    ("3 janvier 10h", at(2026, 1, 3, 10), None, True),
    ("05/01 à 9h", at(2026, 1, 5, 9), None, True),
    ("1er décembre", at(2026, 12, 1), None, False),  # past this year: next year
    ("31/12 23h59", at(2025, 12, 31, 23, 59), None, True),
    # the summer-time weekends (2026: 29 March and 25 October; 2027: 28 March, 31 October)
    ("29/03/2026 10h", at(2026, 3, 29, 10), None, True),
    ("25/10/2026 10h", at(2026, 10, 25, 10), None, True),
    ("28 mars 2027 9h", at(2027, 3, 28, 9), None, True),
    ("31 octobre 2027 9h", at(2027, 10, 31, 9), None, True),
    # English
    ("next tuesday 2pm", at(2025, 12, 16, 14), None, True),
    ("tomorrow 10am", at(2025, 12, 11, 10), None, True),
    ("in 2 hours", at(2025, 12, 10, 17), None, True),
    ("from 2pm to 3:30pm", at(2025, 12, 11, 14), at(2025, 12, 11, 15, 30), True),
    ("16 December 2026 14:00", at(2026, 12, 16, 14), None, True),
    ("December 16th 2026 2pm", at(2026, 12, 16, 14), None, True),
    ("the 16th at 3pm", at(2025, 12, 16, 15), None, True),
    ("16/12 14h for 2 hours", at(2025, 12, 16, 14), at(2025, 12, 16, 16), True),
    # a duration, a deadline
    ("16/12 14h pendant 1h30", at(2025, 12, 16, 14), at(2025, 12, 16, 15, 30), True),
    ("jusqu'à vendredi 18h", at(2025, 12, 12, 18), None, True),
    # what the bot writes reads back
    ("mercredi 16 décembre 2026, 14 h – 15 h 30", at(2026, 12, 16, 14), at(2026, 12, 16, 15, 30), True),
    ("du mardi 16 au jeudi 18 décembre 2025", at(2025, 12, 16), at(2025, 12, 19), False),
]


@pytest.mark.parametrize(("text", "start", "end", "has_time"), PHRASES, ids=[p[0] for p in PHRASES])
def test_phrase_table(text: str, start: datetime, end: datetime | None, has_time: bool) -> None:
    when = parse_when(text, NOW)
    assert when == When(start, end, has_time)
    assert when.start.tzinfo == PARIS


def test_the_table_is_long_enough() -> None:
    assert len(PHRASES) >= 40


def test_our_grammar_reads_the_table_without_dateparser(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_fallback(*args: object) -> None:
        raise AssertionError("dateparser used")

    monkeypatch.setattr("bot.dates._fallback", no_fallback)
    for text, start, _end, _has_time in PHRASES:
        assert parse_when(text, NOW).start == start, text


# --- errors -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("", "date.errors.empty"),
        ("   ", "date.errors.empty"),
        ("n'importe quoi", "date.errors.unreadable"),
        ("blabla 14h", "date.errors.unreadable"),
        ("31 juin", "date.errors.no_such_date"),
        ("30/02", "date.errors.no_such_date"),
        ("25h", "date.errors.bad_time"),
        ("10:70", "date.errors.bad_time"),
        ("13pm", "date.errors.bad_time"),
        ("hier", "date.errors.past"),
        ("il y a 2 jours", "date.errors.past"),
        ("1er décembre 2025", "date.errors.past"),
        ("16/12 14h-13h", "date.errors.end_before_start"),
        ("du 18 au 16 décembre", "date.errors.end_before_start"),
        ("16/12 14h - 17/12", "date.errors.range"),
        ("16/12 pendant 2h", "date.errors.range"),  # a duration needs a start time
        ("dans 20 ans", "date.errors.delay_too_long"),
        ("x" * (MAX_PHRASE_CHARS + 1), "date.errors.too_long"),
        ("a " * (MAX_PHRASE_WORDS + 1), "date.errors.too_long"),
    ],
)
def test_errors_say_what_was_wrong(text: str, key: str) -> None:
    with pytest.raises(DateError) as caught:
        parse_when(text, NOW)
    assert caught.value.key == key


def test_an_error_echoes_what_was_typed_not_its_folded_form(fr: Translator) -> None:
    with pytest.raises(DateError) as caught:
        parse_when("Trente-Deux Févriér", NOW)
    assert caught.value.params["value"] == "Trente-Deux Févriér"
    text = plain(fr.t(caught.value.key, **caught.value.params))
    assert text.startswith("Je n'ai pas compris la date « Trente-Deux Févriér »")
    assert "« mardi prochain 14h »" in text  # examples


def test_the_past_is_allowed_when_asked() -> None:
    assert parse_when("hier", NOW, allow_past=True) == When(at(2025, 12, 9), None, False)
    assert parse_when("il y a 2 heures", NOW, allow_past=True).start == at(2025, 12, 10, 13)


def test_today_as_a_date_alone_is_not_past() -> None:
    assert parse_when("mercredi", NOW) == When(at(2025, 12, 10), None, False)
    assert parse_when("aujourd'hui", NOW).start.date() == NOW.date()


def test_default_time_for_a_date_alone() -> None:
    when = parse_when("vendredi", NOW, default_time=time(18, 0))
    assert when == When(at(2025, 12, 12, 18), None, False)


def test_ranges_can_be_refused() -> None:
    with pytest.raises(DateError):
        parse_when("16/12 14h-15h", NOW, allow_range=False)


def test_the_past_message_shows_the_moment(fr: Translator) -> None:
    with pytest.raises(DateError) as caught:
        parse_when("16/12/2024 14h", NOW)
    assert plain(fr.t(caught.value.key, **caught.value.params)).startswith(
        "Ce moment est déjà passé (lundi 16 décembre 2024 à 14 h)"
    )


# --- daylight saving time ---------------------------------------------------------------


def test_a_delay_in_hours_is_elapsed_time_across_the_spring_change() -> None:
    saturday = at(2026, 3, 28, 23, 0)
    when = parse_when("dans 4 heures", saturday)
    assert when.start.astimezone(UTC) - saturday.astimezone(UTC) == timedelta(hours=4)
    assert (when.start.hour, when.start.utcoffset()) == (4, timedelta(hours=2))


def test_a_delay_in_days_keeps_the_wall_time_across_the_change() -> None:
    when = parse_when("dans 2 jours", at(2026, 3, 28, 10))
    assert when.start == at(2026, 3, 30, 10)
    assert when.start.utcoffset() == timedelta(hours=2)
    autumn = parse_when("dans 1 jour", at(2026, 10, 24, 10))
    assert autumn.start.astimezone(UTC) == datetime(2026, 10, 25, 9, 0, tzinfo=UTC)


def test_a_wall_time_skipped_in_spring_moves_past_the_gap() -> None:
    when = parse_when("29/03/2026 2h30", NOW)
    assert when.start.astimezone(UTC) == datetime(2026, 3, 29, 1, 30, tzinfo=UTC)
    assert (when.start.hour, when.start.minute) == (3, 30)


def test_a_wall_time_repeated_in_autumn_is_the_first() -> None:
    when = parse_when("25/10/2026 2h30", NOW)
    assert when.start.utcoffset() == timedelta(hours=2)
    assert when.start.astimezone(UTC) == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)


def test_a_range_across_the_autumn_change_lasts_its_real_length() -> None:
    when = parse_when("25/10/2026 de 1h à 4h", NOW)
    assert when.end is not None
    assert when.end.astimezone(UTC) - when.start.astimezone(UTC) == timedelta(hours=4)


# --- bounded work -----------------------------------------------------------------------


def test_a_long_hostile_phrase_is_refused_before_any_parsing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Three long `depuis:"a a …"` froze the bot 18.3 s: dateparser's cost grows with the
    text. Over the caps nothing reads it; under them dateparser only ever sees a capped
    phrase."""
    seen: list[str] = []

    def record(text: str, *args: object) -> None:
        seen.append(text)

    monkeypatch.setattr("bot.dates._fallback", record)
    hostile = " ".join(["a"] * 30_000)
    with pytest.raises(DateError) as caught:
        parse_when(hostile, NOW)
    assert caught.value.key == "date.errors.too_long"
    assert parse_datetime(hostile, NOW) is None
    assert parse_date('"' + hostile + '"', NOW) is None
    assert seen == []
    # at the caps, what reaches dateparser is within them
    parse_datetime(" ".join(["a"] * MAX_PHRASE_WORDS), NOW)
    parse_datetime("ab" * (MAX_PHRASE_CHARS // 2), NOW)
    assert seen and all(len(t) <= MAX_PHRASE_CHARS and len(t.split()) <= MAX_PHRASE_WORDS for t in seen)


def test_huge_numbers_do_not_overflow() -> None:
    for text in ("dans 999999 jours", "dans 9999999999 semaines", "999999 ans"):
        with pytest.raises(DateError):
            parse_when(text, NOW)
    with pytest.raises(DateError):
        parse_delay("99999999999999j")


# --- delays -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("7j", timedelta(days=7)),
        ("1j", timedelta(days=1)),
        ("1h", timedelta(hours=1)),
        ("30s", timedelta(seconds=30)),
        ("1h30", timedelta(hours=1, minutes=30)),
        ("2min30", timedelta(minutes=2, seconds=30)),
        ("90 min", timedelta(minutes=90)),
        ("15 minutes", timedelta(minutes=15)),
        ("2 semaines", timedelta(weeks=2)),
        ("1 jour et 2 heures", timedelta(days=1, hours=2)),
        ("dans 3 jours", timedelta(days=3)),
        ("une demi-heure", timedelta(minutes=30)),
        ("un quart d'heure", timedelta(minutes=15)),
        ("deux heures", timedelta(hours=2)),
        ("7d", timedelta(days=7)),
        ("1 day 2 hours", timedelta(days=1, hours=2)),
        ("2w", timedelta(weeks=2)),
        ("0s", timedelta(0)),
    ],
)
def test_parse_delay(text: str, expected: timedelta) -> None:
    assert parse_delay(text) == expected


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("", "date.errors.empty"),
        ("abc", "date.errors.delay"),
        ("7", "date.errors.delay"),
        ("j7", "date.errors.delay"),
        ("1.5h", "date.errors.delay"),
        ("1h 2h", "date.errors.delay"),
        ("demain", "date.errors.delay"),
        ("1 mois", "date.errors.delay_months"),
        ("2 ans", "date.errors.delay_months"),
        ("4000j", "date.errors.delay_too_long"),
    ],
)
def test_parse_delay_errors(text: str, key: str) -> None:
    with pytest.raises(DateError) as caught:
        parse_delay(text)
    assert caught.value.key == key


class _Reminders(BaseModel):
    rappels: list[Delay]


def test_delay_as_a_config_value() -> None:
    cfg = _Reminders.model_validate({"rappels": ["7j", "1j", "1h", "30s"]})
    assert cfg.rappels == [timedelta(days=7), timedelta(days=1), timedelta(hours=1), timedelta(seconds=30)]
    with pytest.raises(ValidationError) as caught:
        _Reminders.model_validate({"rappels": ["7j", "bientôt"]})
    error = caught.value.errors()[0]
    assert error["type"] == "delay"
    assert error["loc"] == ("rappels", 1)


def test_the_config_delay_error_has_its_message(fr: Translator, en: Translator) -> None:
    assert plain(fr.t("config.errors.delay", value="bientôt")).startswith("« bientôt » n'est pas un délai")
    assert en.has("config.errors.delay")


# --- writing back -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "french", "english"),
    [
        (
            "16 décembre 2026 14:00-15:30",
            "mercredi 16 décembre 2026, 14 h – 15 h 30",
            "Wednesday 16 December 2026, 14:00 – 15:30",
        ),
        ("mardi prochain 14h", "mardi 16 décembre 2025, 14 h", "Tuesday 16 December 2025, 14:00"),
        ("1er janvier 9h30", "jeudi 1er janvier 2026, 9 h 30", "Thursday 1 January 2026, 9:30"),
        ("dans 30s", "mercredi 10 décembre 2025, 15 h 00 min 30 s", "Wednesday 10 December 2025, 15:00:30"),
        (
            "du 16/12 22h au 17/12 1h",
            "mardi 16 décembre 2025, 22 h – mercredi 17 décembre 2025, 1 h",
            "Tuesday 16 December 2025, 22:00 – Wednesday 17 December 2025, 1:00",
        ),
        ("16/12", "mardi 16 décembre 2025", "Tuesday 16 December 2025"),
        (
            "du 16 au 18 décembre",
            "du mardi 16 au jeudi 18 décembre 2025",
            "Tuesday 16 – Thursday 18 December 2025",
        ),
        (
            "du 30 décembre au 2 janvier",
            "du mardi 30 décembre 2025 au vendredi 2 janvier 2026",
            "Tuesday 30 December 2025 – Friday 2 January 2026",
        ),
    ],
)
def test_format_when(text: str, french: str, english: str, fr: Translator, en: Translator) -> None:
    when = parse_when(text, NOW)
    assert format_when(when.start, when.end, fr, has_time=when.has_time) == french
    assert format_when(when.start, when.end, en, has_time=when.has_time) == english


def test_format_when_writes_utc_in_the_zone(fr: Translator) -> None:
    summer = datetime(2026, 7, 14, 8, 30, tzinfo=UTC)
    assert format_when(summer, None, fr) == "mardi 14 juillet 2026, 10 h 30"


@pytest.mark.parametrize(
    ("delta", "french", "english"),
    [
        (timedelta(days=7), "1 semaine", "1 week"),
        (timedelta(days=1), "1 jour", "1 day"),
        (timedelta(days=3), "3 jours", "3 days"),
        (timedelta(hours=1, minutes=30), "1 heure 30 minutes", "1 hour 30 minutes"),
        (timedelta(seconds=30), "30 secondes", "30 seconds"),
        (timedelta(days=1, hours=2), "1 jour 2 heures", "1 day 2 hours"),
        (timedelta(0), "0 seconde", "0 seconds"),
    ],
)
def test_format_delay(delta: timedelta, french: str, english: str, fr: Translator, en: Translator) -> None:
    assert format_delay(delta, fr) == french
    assert format_delay(delta, en) == english


def test_every_date_key_exists_in_both_locales() -> None:
    catalog = Catalog.load([Path(bot.dates.__file__).parent / "locales"])
    french = {k for k in catalog.messages["fr"] if k.startswith(("date.", "recurrence."))}
    english = {k for k in catalog.messages["en"] if k.startswith(("date.", "recurrence."))}
    assert french == english
    assert "date.errors.unreadable" in french


@pytest.mark.parametrize(("text", "_start", "_end", "_has_time"), PHRASES, ids=[p[0] for p in PHRASES])
def test_what_the_bot_writes_reads_back(
    text: str, _start: datetime, _end: datetime | None, _has_time: bool, fr: Translator, en: Translator
) -> None:
    """The confirmation « mardi 16 décembre 2026, 14 h – 15 h 30 » is itself a valid
    `<quand>`: a member may copy it to correct one part."""
    when = parse_when(text, NOW)
    for tr in (fr, en):
        written = format_when(when.start, when.end, tr, has_time=when.has_time)
        assert parse_when(written, NOW) == when, written
