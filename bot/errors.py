"""Errors the runtime knows how to turn into replies."""

from __future__ import annotations

import secrets
from typing import Any


class UserError(Exception):
    """An expected problem, answered with a localized message (a catalog key and its
    parameters). Raise it anywhere below a handler; the runtime turns it into a reply."""

    def __init__(self, key: str, **params: Any) -> None:
        super().__init__(key)
        self.key = key
        self.params = params


class BadArgument(UserError):
    """A command argument that could not be understood. The runtime adds the command's
    usage after the message."""


class PermissionDenied(UserError):
    """The member's role is below what the command needs."""


def error_reference() -> str:
    """A short reference logged with an unexpected error and shown to the user, so an
    operator can find the traceback without the user ever seeing it."""
    return secrets.token_hex(2).upper()
