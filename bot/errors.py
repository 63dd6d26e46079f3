"""Errors the runtime knows how to turn into replies."""

from __future__ import annotations

import secrets
from typing import Any

from bot.formatting import Rich
from bot.limits import MAX_ECHO_CHARS, cut


class UserError(Exception):
    """An expected problem, answered with a localized message (a catalog key and its
    parameters). Raise it anywhere below a handler; the runtime turns it into a reply.
    Its text parameters are mostly what the member typed: each is cut to
    `MAX_ECHO_CHARS`, so an error never posts a long input back."""

    def __init__(self, key: str, **params: Any) -> None:
        super().__init__(key)
        self.key = key
        self.params = {name: _echo(value) for name, value in params.items()}


def _echo(value: Any) -> Any:
    if isinstance(value, str):
        return cut(value, MAX_ECHO_CHARS)
    if isinstance(value, Rich) and len(value.plain) > MAX_ECHO_CHARS:
        return Rich.text(cut(value.plain, MAX_ECHO_CHARS))
    return value


class BadArgument(UserError):
    """A command argument that could not be understood. The runtime adds the command's
    usage after the message."""


class PermissionDenied(UserError):
    """The member's role is below what the command needs."""


def error_reference() -> str:
    """A short reference logged with an unexpected error and shown to the user, so an
    operator can find the traceback without the user ever seeing it."""
    return secrets.token_hex(2).upper()
