"""From a message to a command name and its argument text.

Accepted forms: `!annuaire x`, `/annuaire x` (Element turns `//annuaire` into
`/annuaire`), `//annuaire x` from clients that send it as typed, `Oasis: annuaire x` or
`@oasis:server annuaire x` (a mention of the bot, prefix optional), and in a direct chat
with the bot, `annuaire x` without prefix. Reply fallbacks (`> ` lines, `<mx-reply>`) are
dropped first, and a mention pill in HTML becomes the user's Matrix ID so commands can
take people as arguments."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from html.parser import HTMLParser
from urllib.parse import unquote

from bot.text import fold

_NAME = re.compile(r"[^\W\d_][\w-]*", re.UNICODE)
_MATRIX_TO = re.compile(r"^https://matrix\.to/#/((?:@|%40)[^/?]+)", re.IGNORECASE)
QUOTES = {'"': '"', "«": "»", "“": "”", "„": "“"}


@dataclass(frozen=True, slots=True)
class CommandText:
    name: str  # folded: lower-case, no accents
    args: str  # the rest, stripped
    typed_name: str  # as the member typed it, for messages


def strip_reply_fallback(body: str) -> str:
    """Drop the `> ` quote lines a reply carries at the top of its body."""
    lines = body.split("\n")
    i = 0
    while i < len(lines) and lines[i].startswith(">"):
        i += 1
    if i and i < len(lines) and lines[i] == "":
        i += 1
    return "\n".join(lines[i:]) if i else body


class _HtmlToText(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0
        self._link: list[str | None] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "mx-reply":
            self._skip += 1
        elif tag == "br" or (tag in ("p", "div", "li") and self.parts):
            self.parts.append("\n")
        elif tag == "a":
            href = dict(attrs).get("href") or ""
            m = _MATRIX_TO.match(href)
            # Some clients percent-encode the ID (`%40alice%3Aexample.org`).
            user = unquote(html.unescape(m.group(1))) if m else None
            self._link.append(user)
            if user and not self._skip:
                self.parts.append(user)

    def handle_endtag(self, tag: str) -> None:
        if tag == "mx-reply" and self._skip:
            self._skip -= 1
        elif tag == "a" and self._link:
            self._link.pop()

    def handle_data(self, data: str) -> None:
        if self._skip or (self._link and self._link[-1]):
            return  # inside a reply fallback, or the label of a user pill
        self.parts.append(data)


def html_to_command_text(formatted: str) -> str:
    parser = _HtmlToText()
    parser.feed(formatted)
    parser.close()
    return "".join(parser.parts)


def message_text(content: dict[str, object]) -> str:
    """The text a command is read from: the HTML (pills → Matrix IDs) when present, else
    the plain body, reply fallbacks removed either way."""
    body = content.get("body")
    formatted = content.get("formatted_body")
    if content.get("format") == "org.matrix.custom.html" and isinstance(formatted, str):
        text = html_to_command_text(formatted)
    else:
        text = body if isinstance(body, str) else ""
    return strip_reply_fallback(text).strip()


def extract_command(
    text: str,
    *,
    prefixes: tuple[str, ...],
    is_direct: bool,
    bot_user_id: str,
    bot_names: tuple[str, ...] = (),
) -> CommandText | None:
    """The command in `text`, or None when the message is not addressed to the bot."""
    rest = text.lstrip()
    addressed = False
    for mention in (bot_user_id, *bot_names):
        if mention and rest.casefold().startswith(mention.casefold()):
            after = rest[len(mention) :]
            # The Matrix ID is an explicit mention; a bare name is addressing only as
            # « OASIS: aide », « OASIS, aide » or « OASIS !aide », so that « OASIS organise
            # un atelier » (people talking about the network) is not taken for a command.
            explicit = mention == bot_user_id
            next_text = after.lstrip(" \t")
            if (
                not after
                or next_text[:1] in (":", ",")
                or (after[0].isspace() and (explicit or next_text.startswith(prefixes)))
            ):
                rest = after.lstrip(":, \t\n")
                addressed = True
                break
    for prefix in prefixes:
        if rest.startswith(prefix):
            rest = rest[len(prefix) :]
            # `//annuaire` as typed in clients that do not eat one slash.
            if prefix == "/" and rest.startswith("/"):
                rest = rest[1:]
            addressed = True
            break
    if not addressed and not is_direct:
        return None
    m = _NAME.match(rest)
    if not m:
        return None
    typed = m.group(0)
    after = rest[m.end() :]
    if after and not after[0].isspace():
        return None  # `!important.` or `/path/to` are not commands
    return CommandText(name=fold(typed), args=after.strip(), typed_name=typed)


@dataclass(frozen=True, slots=True)
class Token:
    text: str
    quoted: bool  # typed between quotes: one value whatever it holds


def tokens(text: str) -> list[Token]:
    """Split arguments on spaces, keeping "quoted", « guillemets » and “curly” groups
    whole. Apostrophes are letters in French (« l'eau »), never quotes."""
    out: list[Token] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch.isspace():
            i += 1
            continue
        if ch in QUOTES:
            close = QUOTES[ch]
            j = text.find(close, i + 1)
            if j != -1:
                out.append(Token(text[i + 1 : j].strip(), True))
                i = j + 1
                continue
        j = i
        while j < n and not text[j].isspace():
            j += 1
        out.append(Token(text[i:j], False))
        i = j
    return out


def tokenize(text: str) -> list[str]:
    """`tokens`' texts."""
    return [t.text for t in tokens(text)]


def split_pipes(text: str) -> list[str]:
    """`a | b | c` → ['a', 'b', 'c'] (fields trimmed, empty ones kept as '')."""
    return [part.strip() for part in text.split("|")]


def split_first(text: str) -> tuple[str, str]:
    """First token (quotes honoured) and the raw rest of the text."""
    stripped = text.lstrip()
    if not stripped:
        return "", ""
    if stripped[0] in QUOTES:
        close = QUOTES[stripped[0]]
        j = stripped.find(close, 1)
        if j != -1:
            return stripped[1:j].strip(), stripped[j + 1 :].strip()
    parts = stripped.split(maxsplit=1)
    return parts[0], parts[1] if len(parts) > 1 else ""
