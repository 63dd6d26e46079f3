"""Hints meant for the bot's operator (a configuration key to set), shown to animators and
admins only: members never see configuration jargon, they get the plain sentence that
comes before the hint."""

from __future__ import annotations

from typing import Any

from bot.context import Context
from bot.formatting import Rich
from bot.roles import Role


def operator_hint(ctx: Context, key: str, **params: Any) -> Rich:
    """`key`'s text after « For the operator: », for an animator or an admin; empty for a
    member. Catalog sentences end with `{hint}` where it goes."""
    if ctx.role < Role.ANIMATOR:
        return Rich("", "")
    return ctx.rich("operator.hint", text=ctx.rich(key, **params))
