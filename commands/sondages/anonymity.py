"""Anonymous surveys: who answered is kept under a keyed hash, results only above k.

Each anonymous survey draws its own random key. While the survey is open the bot needs
it: to let a person change their answer, to count each person once, and to remind only
those who have not answered. When the survey closes the key is dropped and the answers are
reduced to their totals, so from then on nobody — the bot's operator included — can tell
who answered what, or link one survey's answers to another's."""

from __future__ import annotations

import hashlib
import hmac
import secrets

PREFIX = "h:"
KEY_BYTES = 32


def new_key() -> bytes:
    return secrets.token_bytes(KEY_BYTES)


def pseudonym(key: bytes, user_id: str) -> str:
    """The voter of `user_id` in the survey whose key is `key` (HMAC-SHA-256)."""
    return PREFIX + hmac.new(key, user_id.encode("utf-8"), hashlib.sha256).hexdigest()


def is_pseudonym(voter: str) -> bool:
    return voter.startswith(PREFIX)


def may_show(respondents: int, threshold: int) -> bool:
    """Whether an anonymous survey's totals may be shown: at least `threshold` answers
    (a total over fewer people could tell who answered what)."""
    return respondents >= max(1, threshold)
