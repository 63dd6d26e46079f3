"""From a message to a command: prefixes, mentions, direct chats, reply fallbacks, quotes."""

from __future__ import annotations

import pytest

from bot.parsing import (
    CommandText,
    extract_command,
    message_text,
    split_first,
    split_pipes,
    strip_reply_fallback,
    tokenize,
)

BOT = "@oasis:localhost"
PREFIXES = ("!", "/")


def parse(
    text: str, *, direct: bool = False, names: tuple[str, ...] = ("OASIS", "oasis")
) -> CommandText | None:
    return extract_command(text, prefixes=PREFIXES, is_direct=direct, bot_user_id=BOT, bot_names=names)


def html(formatted: str, body: str = "(body)") -> dict[str, object]:
    return {"body": body, "format": "org.matrix.custom.html", "formatted_body": formatted}


# --- prefixes ---------------------------------------------------------------------


@pytest.mark.parametrize("text", ["!aide", "/aide", "//aide", "  !aide  "])
def test_prefixes(text: str) -> None:
    assert parse(text) == CommandText(name="aide", args="", typed_name="aide")


def test_arguments_follow_the_name_stripped() -> None:
    parsed = parse("!annuaire   évaluation  publique ")
    assert parsed is not None
    assert parsed.name == "annuaire"
    assert parsed.args == "évaluation  publique"


def test_arguments_may_continue_on_next_lines() -> None:
    parsed = parse("!signal un titre\nune deuxième ligne")
    assert parsed is not None
    assert parsed.name == "signal"
    assert parsed.args == "un titre\nune deuxième ligne"


def test_hyphenated_command_names() -> None:
    parsed = parse("!mes-donnees")
    assert parsed is not None and parsed.name == "mes-donnees"


def test_only_configured_prefixes_count() -> None:
    assert extract_command("/aide", prefixes=("!",), is_direct=False, bot_user_id=BOT) is None
    assert extract_command("?aide", prefixes=("?",), is_direct=False, bot_user_id=BOT) == CommandText(
        "aide", "", "aide"
    )


# --- not commands -----------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "!important.",  # punctuation glued to the word
        "!!!",
        "/path/to/file",
        "/home/alice",
        "! hello",  # a space after the prefix
        "!",
        "!123",
        "!aide?",
        "hello everyone",
        "aide",  # no prefix in a room
        "bonjour !aide",  # the prefix must come first
        "",
        "   ",
    ],
)
def test_not_commands_in_a_room(text: str) -> None:
    assert parse(text) is None


def test_mention_in_the_middle_is_not_addressing() -> None:
    assert parse("merci @oasis:localhost pour tout") is None
    assert parse("Je trouve OASIS très utile") is None


def test_a_name_that_only_starts_like_the_bot_is_not_a_mention() -> None:
    assert parse("oasisien aide") is None
    assert parse("@oasis:localhostile aide") is None


# --- mentions ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "@oasis:localhost aide",
        "@oasis:localhost: aide",
        "OASIS: aide",
        "oasis: aide",
        "Oasis, aide",
        "OASIS : aide",
        "OASIS: !aide",
        "@oasis:localhost //aide",
    ],
)
def test_mention_then_command(text: str) -> None:
    parsed = parse(text)
    assert parsed is not None
    assert parsed.name == "aide"
    assert parsed.args == ""


def test_bare_name_then_words_is_talk_about_the_network() -> None:
    # « OASIS organise un atelier » is people talking, not a command « organise ».
    assert parse("OASIS organise un atelier jeudi") is None
    assert parse("Oasis est génial") is None
    # The Matrix ID is an explicit mention: no separator needed.
    parsed = parse("@oasis:localhost annuaire Lyon")
    assert parsed is not None and (parsed.name, parsed.args) == ("annuaire", "Lyon")
    parsed = parse("OASIS !annuaire Lyon")
    assert parsed is not None and (parsed.name, parsed.args) == ("annuaire", "Lyon")


def test_mention_keeps_arguments() -> None:
    parsed = parse("OASIS: annuaire « Métropole de Lyon »")
    assert parsed is not None
    assert (parsed.name, parsed.args) == ("annuaire", "« Métropole de Lyon »")


def test_a_mention_alone_is_not_a_command() -> None:
    assert parse("OASIS:") is None
    assert parse("@oasis:localhost") is None


def test_html_pill_of_the_bot_is_a_mention() -> None:
    text = message_text(html('<a href="https://matrix.to/#/@oasis:localhost">OASIS</a>: aide', "OASIS: aide"))
    assert text == "@oasis:localhost: aide"
    parsed = parse(text, names=())
    assert parsed is not None and parsed.name == "aide"


# --- direct chats -----------------------------------------------------------------


def test_direct_chat_without_prefix() -> None:
    parsed = parse("aide langue", direct=True)
    assert parsed == CommandText(name="aide", args="langue", typed_name="aide")


def test_direct_chat_with_prefix_too() -> None:
    assert parse("!aide", direct=True) == parse("aide", direct=True)


def test_direct_chat_still_rejects_glued_punctuation() -> None:
    assert parse("Bonjour, ça va ?", direct=True) is None
    assert parse("!important.", direct=True) is None


# --- case and accents -------------------------------------------------------------


@pytest.mark.parametrize("typed", ["Annuaire", "ANNUAIRE", "annuaire", "AnNuAiRe"])
def test_command_names_ignore_case(typed: str) -> None:
    parsed = parse(f"!{typed} x")
    assert parsed is not None
    assert parsed.name == "annuaire"
    assert parsed.typed_name == typed


@pytest.mark.parametrize("typed", ["àide", "AÏDE", "évènement"])
def test_command_names_ignore_accents(typed: str) -> None:
    parsed = parse(f"!{typed}")
    assert parsed is not None
    assert parsed.name in ("aide", "evenement")
    assert parsed.typed_name == typed


# --- reply fallbacks --------------------------------------------------------------


def test_reply_fallback_lines_are_dropped_from_the_body() -> None:
    body = "> <@alice:localhost> une question\n> sur deux lignes\n\n!aide annuaire"
    assert strip_reply_fallback(body) == "!aide annuaire"
    assert message_text({"body": body}) == "!aide annuaire"


def test_quote_fallback_only_at_the_top() -> None:
    body = "!signal titre\n> une citation dans le texte"
    assert strip_reply_fallback(body) == body


def test_mx_reply_is_dropped_from_html() -> None:
    content = html(
        "<mx-reply><blockquote><a href='https://matrix.to/#/$ev'>In reply to</a> "
        '<a href="https://matrix.to/#/@alice:localhost">Alice</a><br>!ping</blockquote></mx-reply>'
        "!aide",
        body="> <@alice:localhost> !ping\n\n!aide",
    )
    assert message_text(content) == "!aide"


def test_a_quoted_command_in_a_reply_is_not_the_command() -> None:
    # The member replies to someone's « !ping » with plain words: no command.
    content = html(
        "<mx-reply><blockquote>!ping</blockquote></mx-reply>merci !",
        body="> <@alice:localhost> !ping\n\nmerci !",
    )
    assert parse(message_text(content)) is None
    assert parse(message_text({"body": "> <@alice:localhost> !ping\n\nmerci !"})) is None


# --- HTML and pills ---------------------------------------------------------------


def test_pills_become_matrix_ids_in_arguments() -> None:
    content = html('!profil <a href="https://matrix.to/#/@alice:example.org">Alice Martin</a>')
    assert message_text(content) == "!profil @alice:example.org"


def test_percent_encoded_pills_become_matrix_ids() -> None:
    content = html('!profil <a href="https://matrix.to/#/%40alice%3Aexample.org">Alice</a>')
    assert message_text(content) == "!profil @alice:example.org"


def test_pill_with_via_parameters() -> None:
    content = html('!profil <a href="https://matrix.to/#/@bob:example.org?via=example.org">Bob</a>')
    assert message_text(content) == "!profil @bob:example.org"


def test_other_links_keep_their_label() -> None:
    content = html(
        '!voir <a href="https://example.org/page">la page</a> et <a href="https://matrix.to/#/#salon:x">#salon</a>'
    )
    assert message_text(content) == "!voir la page et #salon"


def test_html_entities_and_paragraphs() -> None:
    assert message_text(html("<p>!signal R&amp;D &lt;urgent&gt;</p>")) == "!signal R&D <urgent>"
    assert message_text(html("!signal titre<br>détails")) == "!signal titre\ndétails"


def test_plain_body_used_without_html_format() -> None:
    content: dict[str, object] = {"body": "!aide", "formatted_body": "<b>!ping</b>"}  # no "format"
    assert message_text(content) == "!aide"
    assert message_text({}) == ""
    assert message_text({"body": 42}) == ""


# --- tokens and quotes ------------------------------------------------------------


def test_tokenize_words() -> None:
    assert tokenize("  un   deux\ttrois ") == ["un", "deux", "trois"]
    assert tokenize("") == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('"Métropole de Lyon" 3', ["Métropole de Lyon", "3"]),
        ("« Métropole de Lyon » 3", ["Métropole de Lyon", "3"]),
        ("«Métropole de Lyon» 3", ["Métropole de Lyon", "3"]),
        ("“Métropole de Lyon” 3", ["Métropole de Lyon", "3"]),
        ("„Métropole de Lyon“ 3", ["Métropole de Lyon", "3"]),
    ],
)
def test_tokenize_quoted_groups(text: str, expected: list[str]) -> None:
    assert tokenize(text) == expected


def test_apostrophes_are_letters() -> None:
    assert tokenize("l'eau d’ici aujourd'hui") == ["l'eau", "d’ici", "aujourd'hui"]
    assert split_first("l'eau claire") == ("l'eau", "claire")


def test_unclosed_quote_is_a_plain_character() -> None:
    assert tokenize('"pas fermé ici') == ['"pas', "fermé", "ici"]


def test_split_first() -> None:
    assert split_first("  un deux  trois ") == ("un", "deux  trois ")  # the raw rest
    assert split_first("« un deux » trois quatre") == ("un deux", "trois quatre")
    assert split_first('"seul"') == ("seul", "")
    assert split_first("seul") == ("seul", "")
    assert split_first("   ") == ("", "")


def test_split_pipes() -> None:
    assert split_pipes("Titre | description longue |  lien ") == ["Titre", "description longue", "lien"]
    assert split_pipes("a || c") == ["a", "", "c"]
    assert split_pipes("sans barre") == ["sans barre"]
    assert split_pipes("") == [""]
