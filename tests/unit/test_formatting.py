"""Rich text and outgoing messages: user text escaped, safe links only, mentions explicit."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from bot.formatting import (
    Rich,
    as_rich,
    bold,
    bullets,
    code,
    domain_of,
    heading,
    is_safe_url,
    italic,
    join,
    lines,
    link,
    site_of,
    titled_link,
    user_link,
)
from bot.messages import NOTICE, TEXT, OutgoingMessage, file_content, reaction_content

# --- escaping ---------------------------------------------------------------------


def test_user_text_is_escaped_in_html_only() -> None:
    r = Rich.text('<script>alert("x")</script> R&D')
    assert r.plain == '<script>alert("x")</script> R&D'
    assert r.html == '&lt;script&gt;alert("x")&lt;/script&gt; R&amp;D'
    assert "<script" not in r.html


def test_html_entities_typed_by_a_user_stay_literal() -> None:
    assert Rich.text("&lt;b&gt;").html == "&amp;lt;b&amp;gt;"


def test_newlines_become_line_breaks() -> None:
    assert Rich.text("un\ndeux").html == "un<br>deux"
    assert Rich.text("un\ndeux").plain == "un\ndeux"


def test_non_strings_are_rendered_as_text() -> None:
    assert Rich.text(42) == Rich("42", "42")
    assert as_rich(None).plain == "None"
    r = Rich("a", "<b>a</b>")
    assert as_rich(r) is r


def test_template_keeps_tags_in_html_and_drops_them_in_plain() -> None:
    r = Rich.template("<b>Titre</b> &amp; <i>suite</i><br>ligne")
    assert r.html == "<b>Titre</b> &amp; <i>suite</i><br>ligne"
    assert r.plain == "Titre & suite\nligne"


def test_concatenation_escapes_plain_strings() -> None:
    r = bold("a") + " <b>"
    assert r == Rich("a <b>", "<b>a</b> &lt;b&gt;")
    r2 = "<i>" + italic("x")
    assert r2 == Rich("<i>x", "&lt;i&gt;<i>x</i>")


def test_emptiness() -> None:
    assert not Rich("", "")
    assert Rich.text("x")


@pytest.mark.parametrize("wrap", [bold, italic, code, heading])
def test_wrappers_escape_their_text(wrap: Callable[[object], Rich]) -> None:
    r = wrap("<x> & y")
    assert r.plain == "<x> & y"
    assert "&lt;x&gt; &amp; y" in r.html
    assert "<x>" not in r.html


# --- links ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    ["https://example.org", "http://example.org/a?b=1&c=2", "mailto:contact@example.org", "HTTPS://EX.ORG"],
)
def test_safe_urls(url: str) -> None:
    assert is_safe_url(url)


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        "JavaScript:alert(1)",
        "data:text/html;base64,PHNjcmlwdD4=",
        "ftp://example.org",
        "file:///etc/passwd",
        "//example.org",
        'https://example.org/" onclick="alert(1)',
        "https://example.org/<script>",
        "https://exa mple.org",
    ],
)
def test_unsafe_urls_are_not_linked(url: str) -> None:
    assert not is_safe_url(url)
    r = link(url, "cliquez")
    assert "<a" not in r.html
    assert r == Rich("cliquez", "cliquez")


def test_unsafe_url_without_label_is_escaped_text() -> None:
    r = link("javascript:alert('<x>')")
    assert "<a" not in r.html
    assert "&lt;x&gt;" in r.html


def test_link_with_label() -> None:
    r = link("https://example.org/?a=1&b=2", "Le <site>")
    assert r.html == '<a href="https://example.org/?a=1&amp;b=2">Le &lt;site&gt;</a>'
    assert r.plain == "Le <site> (https://example.org/?a=1&b=2)"


def test_link_without_label_shows_the_url_once() -> None:
    r = link("https://example.org")
    assert r.html == '<a href="https://example.org">https://example.org</a>'
    assert r.plain == "https://example.org"
    assert link("https://example.org", "https://example.org").plain == "https://example.org"


def test_mailto_link() -> None:
    r = link("mailto:camille@example.org", "Camille")
    assert r.html == '<a href="mailto:camille@example.org">Camille</a>'


def test_user_link_is_a_matrix_to_pill() -> None:
    r = user_link("@alice:example.org", "Alice")
    assert r.html == '<a href="https://matrix.to/#/@alice:example.org">Alice</a>'
    assert r.plain == "Alice"  # the same name in the body, so clients render a pill


def test_user_link_escapes_the_name_and_quotes_the_id() -> None:
    r = user_link('@a"b<:example.org', 'Eve "<b>"')
    assert r.html == ('<a href="https://matrix.to/#/@a%22b%3C:example.org">Eve "&lt;b&gt;"</a>')
    assert r.plain == 'Eve "<b>"'


def test_user_link_without_name_shows_the_id() -> None:
    r = user_link("@bob:example.org")
    assert r.plain == "@bob:example.org"
    assert r.html == '<a href="https://matrix.to/#/@bob:example.org">@bob:example.org</a>'


# --- lists ------------------------------------------------------------------------


def test_bullets() -> None:
    r = bullets(["un <1>", bold("deux"), "trois & quatre"])
    assert r.plain == "• un <1>\n• deux\n• trois & quatre"
    assert r.html == "<ul><li>un &lt;1&gt;</li><li><b>deux</b></li><li>trois &amp; quatre</li></ul>"


def test_empty_bullets() -> None:
    assert bullets([]) == Rich("", "")


def test_lines_and_join() -> None:
    assert lines(["a", bold("b"), "c<"]) == Rich("a\nb\nc<", "a<br><b>b</b><br>c&lt;")
    assert lines([]) == Rich("", "")
    assert join(["a", "b"], " & ") == Rich("a & b", "a &amp; b")
    assert join(["seul"]) == Rich("seul", "seul")


# --- outgoing messages ------------------------------------------------------------


def test_notice_without_mentions_has_empty_mentions() -> None:
    content = OutgoingMessage(Rich.text("Bonjour @room et @alice:example.org")).content()
    assert content == {
        "msgtype": NOTICE,
        "body": "Bonjour @room et @alice:example.org",
        "format": "org.matrix.custom.html",
        "formatted_body": "Bonjour @room et @alice:example.org",
        "m.mentions": {},
    }


def test_message_that_pings_is_text_with_user_ids() -> None:
    msg = OutgoingMessage(
        user_link("@alice:example.org", "Alice") + " bienvenue",
        mentions=("@alice:example.org",),
        notify=True,
    )
    content = msg.content()
    assert content["msgtype"] == TEXT == "m.text"
    assert content["m.mentions"] == {"user_ids": ["@alice:example.org"]}
    assert "room" not in content["m.mentions"]
    assert content["body"] == "Alice bienvenue"


def test_mentions_are_listed_even_in_a_notice() -> None:
    content = OutgoingMessage(Rich.text("x"), mentions=("@a:x", "@b:x")).content()
    assert content["msgtype"] == NOTICE
    assert content["m.mentions"] == {"user_ids": ["@a:x", "@b:x"]}


def test_reply_relation_without_fallback() -> None:
    content = OutgoingMessage(Rich.text("pong"), reply_to="$abc").content()
    assert content["m.relates_to"] == {"m.in_reply_to": {"event_id": "$abc"}}
    assert not content["body"].startswith(">")
    assert "mx-reply" not in content["formatted_body"]
    assert "m.relates_to" not in OutgoingMessage(Rich.text("pong")).content()


def test_extra_fields_are_merged() -> None:
    content = OutgoingMessage(Rich.text("x"), extra={"org.example.tag": 1}).content()
    assert content["org.example.tag"] == 1
    assert content["m.mentions"] == {}


def test_reaction_and_file_contents() -> None:
    assert reaction_content("$e", "👍") == {
        "m.relates_to": {"rel_type": "m.annotation", "event_id": "$e", "key": "👍"}
    }
    f = file_content("export.json", "application/json", 12, "mxc://x/y")
    assert f["msgtype"] == "m.file"
    assert f["url"] == "mxc://x/y"
    assert f["info"] == {"mimetype": "application/json", "size": 12}
    assert f["m.mentions"] == {}


def test_user_text_loses_control_and_bidi_override_characters() -> None:
    from bot.formatting import Rich

    hostile = "Ali\u202ece\x00\x1b[31m\u2066x\u2069 <b>@room</b>\nsuite\u200f"
    r = Rich.text(hostile)
    assert r.plain == "Alice[31mx <b>@room</b>\nsuite\u200f"
    assert r.html == "Alice[31mx &lt;b&gt;@room&lt;/b&gt;<br>suite\u200f"


def test_web_link() -> None:
    from bot.formatting import web_link

    assert web_link("www.exemple.fr/guide.") == "https://www.exemple.fr/guide"
    assert web_link("<https://exemple.fr/a?b=1>") == "https://exemple.fr/a?b=1"
    assert web_link("pas un lien") is None and web_link("ftp://exemple.fr") is None
    assert web_link("https://localhost") is None and web_link("https://x.fr/" + "a" * 3000) is None


def test_a_titled_link_shows_the_site_it_leads_to() -> None:
    rich = titled_link("https://www.exemple.fr/rapport?x=1", "Rapport officiel du GIEC")
    assert (
        rich.html == '<a href="https://www.exemple.fr/rapport?x=1">Rapport officiel du GIEC</a> (exemple.fr)'
    )
    assert rich.plain == "Rapport officiel du GIEC (https://www.exemple.fr/rapport?x=1)"
    # A look-alike letter (Cyrillic « а ») shows in the name's ASCII form.
    assert domain_of("https://ipcc.ch\u0430.org/x") == "ipcc.xn--ch-8kc.org"
    assert domain_of("https://gouv.fr.evil.example/x") == "gouv.fr.evil.example"
    assert site_of("javascript:alert(1)").html == "" and site_of("mailto:a@b.fr").html == ""
