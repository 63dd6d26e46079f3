"""Rich text that carries its plain-text and HTML forms together.

Every piece of user text enters through `Rich.text` (escaped); catalog templates may use a
few tags (<b>, <i>, <code>, <br>) that are kept in HTML and dropped in plain text. Links
accept http(s) and mailto only; people are linked with matrix.to, which never notifies them
by itself (only `m.mentions` does)."""

from __future__ import annotations

import html
import re
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import quote, urlsplit

from bot.limits import MAX_TEXT_CHARS, cut

_TAG = re.compile(r"<[^>]+>")
# Characters user text must not carry into a message the bot shows to others: control
# characters (a terminal escape, a NUL) and the bidirectional embeddings, overrides and
# isolates, which would reverse the bot's own words after them (a U+202E in a name turns
# « Partagé par » around).
# Newlines and tabs stay; so do the plain direction marks (U+200E, U+200F).
_UNSHOWABLE = dict.fromkeys(
    [
        *range(0x00, 0x09),
        0x0B,
        0x0C,
        *range(0x0E, 0x20),
        *range(0x7F, 0xA0),
        *range(0x202A, 0x202F),
        *range(0x2066, 0x206A),
    ]
)
_SAFE_SCHEMES = ("http://", "https://", "mailto:")


@dataclass(frozen=True, slots=True)
class Rich:
    plain: str
    html: str

    @staticmethod
    def text(value: object) -> Rich:
        """User or data text: escaped for HTML, newlines kept, control and bidirectional
        override characters dropped, cut to `MAX_TEXT_CHARS` (nothing stored is longer;
        a longer piece is an echo of something typed)."""
        s = cut(str(value), MAX_TEXT_CHARS).translate(_UNSHOWABLE)
        return Rich(s, html.escape(s, quote=False).replace("\n", "<br>"))

    @staticmethod
    def template(markup: str) -> Rich:
        """Catalog markup (trusted): tags kept in HTML, stripped in plain text."""
        plain = html.unescape(_TAG.sub("", markup.replace("<br>", "\n")))
        return Rich(plain, markup.replace("\n", "<br>"))

    def __add__(self, other: Rich | str) -> Rich:
        o = other if isinstance(other, Rich) else Rich.text(other)
        return Rich(self.plain + o.plain, self.html + o.html)

    def __radd__(self, other: str) -> Rich:
        return Rich.text(other) + self

    def __bool__(self) -> bool:
        return bool(self.plain)


def as_rich(value: object) -> Rich:
    return value if isinstance(value, Rich) else Rich.text(value)


def bold(value: object) -> Rich:
    r = as_rich(value)
    return Rich(r.plain, f"<b>{r.html}</b>")


def italic(value: object) -> Rich:
    r = as_rich(value)
    return Rich(r.plain, f"<i>{r.html}</i>")


def code(value: object) -> Rich:
    r = as_rich(value)
    return Rich(r.plain, f"<code>{r.html}</code>")


def is_safe_url(url: str) -> bool:
    return url.lower().startswith(_SAFE_SCHEMES) and not any(c in url for c in ' \n\t<>"')


def web_link(raw: str, max_length: int = 2000) -> str | None:
    """A web address as people paste it → an http(s) URL (« www.… » gets https://;
    <…> and trailing punctuation are dropped), or None when it is not one."""
    url = raw.strip().strip("<>").rstrip(".,;)»")
    if url.lower().startswith("www."):
        url = "https://" + url
    parts = urlsplit(url)
    if (
        parts.scheme.lower() not in ("http", "https")
        or "." not in (parts.hostname or "")
        or any(c.isspace() for c in url)
        or len(url) > max_length
    ):
        return None
    return url


def link(url: str, label: object | None = None) -> Rich:
    """A link if the URL is http(s)/mailto, else just the label as text."""
    text = as_rich(label if label is not None else url)
    if not is_safe_url(url):
        return text
    plain = text.plain if label is None or text.plain == url else f"{text.plain} ({url})"
    return Rich(plain, f'<a href="{html.escape(url, quote=True)}">{text.html}</a>')


def domain_of(url: str) -> str:
    """The site a link leads to, as a reader should judge it: the host name in ASCII (an
    internationalised name in its « xn-- » form, so a look-alike letter shows), without
    « www. »; empty when there is none."""
    host = (urlsplit(url).hostname or "").rstrip(".")
    try:
        host = host.encode("idna").decode("ascii")
    except UnicodeError:
        host = host.encode("ascii", "backslashreplace").decode("ascii")
    return host.removeprefix("www.")


def site_of(url: str) -> Rich:
    """« (exemple.fr) », to put after a link under a title someone wrote, so the title
    cannot pass one site off as another. Rich text only: the plain text of a link shows
    the whole address already."""
    domain = domain_of(url) if is_safe_url(url) else ""
    return Rich("", f" ({html.escape(domain)})" if domain else "")


def titled_link(url: str, title: object) -> Rich:
    """A link under a title someone wrote, with the site it leads to: « Titre (exemple.fr) »."""
    return link(url, title) + site_of(url)


def user_link(user_id: str, name: str | None = None) -> Rich:
    """A person as a matrix.to link: the body shows the same name, so clients render it as
    a pill without pinging; only `m.mentions` pings."""
    label = Rich.text(name or user_id)
    href = "https://matrix.to/#/" + quote(user_id, safe="@:")
    return Rich(label.plain, f'<a href="{html.escape(href, quote=True)}">{label.html}</a>')


def join(parts: Iterable[object], sep: object = ", ") -> Rich:
    out = Rich("", "")
    separator = as_rich(sep)
    for i, part in enumerate(parts):
        if i:
            out = out + separator
        out = out + as_rich(part)
    return out


def lines(parts: Iterable[object]) -> Rich:
    return join(parts, Rich("\n", "<br>"))


def bullets(items: Iterable[object]) -> Rich:
    """A list: <ul> in HTML, « • » lines in plain text."""
    rendered = [as_rich(i) for i in items]
    if not rendered:
        return Rich("", "")
    plain = "\n".join(f"• {r.plain}" for r in rendered)
    inner = "".join(f"<li>{r.html}</li>" for r in rendered)
    return Rich(plain, f"<ul>{inner}</ul>")


def heading(value: object) -> Rich:
    r = as_rich(value)
    return Rich(r.plain, f"<b>{r.html}</b>")
