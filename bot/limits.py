"""Limits on what one message may make the bot do or say, so that no member can stall
everyone else or make the bot post something the homeserver refuses (64 KB per event).

- A message longer than `MAX_MESSAGE_CHARS` is not read: the member is told so. The
  longest thing a command stores (an announcement's text, 4 000 characters) fits with its
  command around it.
- Any piece of user or data text put in a message is cut to `MAX_TEXT_CHARS`
  (`bot.formatting.Rich.text`); what a member typed, echoed back in an error, to
  `MAX_ECHO_CHARS` (`bot.errors.UserError`: its parameters are mostly what was typed; the
  other ones, such as the configured territories offered as choices, are shorter)."""

from __future__ import annotations

MAX_MESSAGE_CHARS = 5_000
MAX_TEXT_CHARS = 4_000
MAX_ECHO_CHARS = 300
ELLIPSIS = "…"


def cut(text: str, limit: int) -> str:
    """`text`, or its first characters and « … » when longer than `limit`."""
    return text if len(text) <= limit else text[: limit - 1].rstrip() + ELLIPSIS
