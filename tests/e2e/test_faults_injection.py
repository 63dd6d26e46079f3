"""Hostile input in every field the bot later shows to others (names, profiles, signals,
comments, resources, events), against the real Synapse:
HTML, Markdown, @room, very long text, control characters, right-to-left overrides. What
others read must be inert: escaped HTML, no ping, no reversed text, within the
homeserver's size limit. And the bot's log at INFO holds no secret and no message text."""

from __future__ import annotations

import json
import logging
import re
from html.parser import HTMLParser

import pytest

from tests.conftest import BotStarter
from tests.support.matrix import Seen, TestUser, replies_to, room_with_bot

RLO = "\u202e"
EVIL = f"<script>alert(1)</script><img src=x onerror=alert(2)> @room **gras** {RLO}sr\x07\x1b[31m"
LONG = ("très long " * 800).strip()  # 8 000 characters


ALLOWED_TAGS = {"h3", "b", "i", "em", "strong", "code", "pre", "br", "p", "ul", "ol", "li", "a", "blockquote"}


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in ALLOWED_TAGS:
            self.problems.append(f"tag <{tag}>")
        for name, value in attrs:
            if tag != "a" or name != "href":
                self.problems.append(f"attribute {name} on <{tag}>")
            elif not re.match(r"^(https?://|mailto:)", value or ""):
                self.problems.append(f"link to {value!r}")


def html_problems(html: str) -> list[str]:
    parser = _Tags()
    parser.feed(html)
    return parser.problems


def inert(message: Seen) -> list[str]:
    """What is wrong with one message of the bot (empty: nothing)."""
    wrong = []
    content = message.content
    mentions = content.get("m.mentions")
    if mentions is None or mentions.get("room"):
        wrong.append(f"m.mentions {mentions!r}")
    html = str(content.get("formatted_body", ""))
    wrong += html_problems(html)
    for where, text in (("body", message.body), ("html", html)):
        found = re.search(f"[\x00-\x08\x1b{RLO}]", text)
        if found:
            wrong.append(
                f"{found.group()!r} in the {where}: {text[max(0, found.start() - 40) : found.end()]!r}"
            )
    if len(json.dumps(content).encode()) > 60_000:
        wrong.append("too large for the homeserver")
    return wrong


async def test_hostile_fields_reach_others_inert(
    start_bot: BotStarter, user, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    bot = await start_bot()
    owner: TestUser = await user("camille")
    mallory: TestUser = await user("mallory")
    await mallory.set_display_name(f"Mal<b>lory</b> @room {RLO}evil")
    room = await room_with_bot(owner, bot.user_id, mallory)
    mark = owner.mark()

    async def say(who: TestUser, text: str) -> Seen:
        """Send a command; its answer (the bot's reply to that very message)."""
        sent = await who.send(room, text)
        return await who.wait_for(
            lambda s: s.sender == bot.user_id and bool(replies_to([s], [sent])), timeout=30
        )

    # Mallory writes hostile text into her profile and a signal, and comments it.
    await say(mallory, f"!profil structure {EVIL}")
    await say(mallory, f"!profil fonction [clic](javascript:alert(3)) {EVIL}")
    await say(mallory, f"!profil competences {EVIL}, @room, <i>x</i>")
    await say(mallory, f"!profil presentation {LONG} {EVIL}")
    await say(mallory, "!profil visible")
    await say(mallory, f'!signal <b>Titre</b> @room {RLO}x | https://exemple.fr/a"onmouseover="x | {EVIL}')
    await say(mallory, f"!signal commenter 1 {EVIL}")
    await say(mallory, f"!annuaire {LONG}")

    await say(
        mallory, f"!ressource ajouter <b>Outil</b> @room {RLO}x | https://exemple.fr/r | {EVIL} | outil"
    )
    # An animator pasting hostile text into an event (the owner: the room's creator).
    await say(
        owner,
        f"!webinaire ajouter demain 14h | <i>Webinaire</i> @room {RLO} | https://visio.exemple.fr/w | {EVIL}",
    )
    await say(mallory, "!participer 1")

    # Others look at all of it.
    shown_profile = await say(owner, f"!profil {mallory.user_id}")
    await say(owner, "!annuaire")
    await say(owner, "!annuaire lory")
    shown_signal = await say(owner, "!signal 1")
    await say(owner, "!signaux")
    await say(owner, "!digest apercu")
    await say(owner, "!ressources outil")
    await say(owner, "!ressource 1")
    agenda = await say(mallory, "!agenda")
    await say(mallory, "!webinaire")

    seen = owner.messages(sender=bot.user_id, since=mark)
    problems = {m.body[:80]: inert(m) for m in seen if inert(m)}
    assert not problems, problems
    # The text is shown, as text.
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in shown_profile.content["formatted_body"]
    assert "@room" in shown_profile.body and "**gras**" in shown_profile.body
    assert "&lt;b&gt;Titre&lt;/b&gt;" in shown_signal.content["formatted_body"]
    assert "&lt;i&gt;Webinaire&lt;/i&gt;" in agenda.content["formatted_body"]
    # Nobody was pinged by any of it.
    assert all(not (m.content["m.mentions"].get("user_ids")) for m in seen)

    # The log at INFO: no password, no access token, no text anyone typed.
    text = caplog.text
    assert bot.account.password not in text  # type: ignore[attr-defined]
    assert bot.app.client.nio.access_token not in text
    for typed in ("alert(1)", "très long", "Titre", "exemple.fr/a"):
        assert typed not in text, typed
