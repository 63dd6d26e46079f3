"""Personal data (RGPD): `!mes-donnees` sends a member everything stored about them, as a
JSON file in their direct chat; `!oublier-moi`, once confirmed, erases it all.

Features plug in with `personal_data(source)` (see `bot/registry.py`): each source
exports its share and erases it. Both commands walk every registered source, so a new
feature's data is covered the day it registers its source."""

from __future__ import annotations

import json
import logging
from typing import Any

from bot.context import Context, Reply
from bot.formatting import Rich, bullets, code, lines
from bot.registry import command
from bot.roles import Role

log = logging.getLogger(__name__)


def _label(ctx: Context, name: str) -> str:
    key = f"donnees.sources.{name}"
    return ctx.t(key) if ctx.tr.has(key) else name


def _holds_something(value: Any) -> bool:
    if isinstance(value, dict):
        return any(_holds_something(v) for v in value.values())
    if isinstance(value, list | tuple | set):
        return bool(value)
    return value not in (None, "", False)


async def collect(ctx: Context, user_id: str) -> dict[str, Any]:
    """Every source's export for `user_id`, by source name."""
    return {
        source.name: await source.export(ctx.repos, user_id) for source in ctx.services.registry.personal_data
    }


@command(
    "mes-donnees", aliases=["my-data", "mesdonnees", "mydata"], help="donnees.export.help", role=Role.OUTSIDER
)
async def my_data(ctx: Context) -> Reply | list[Reply]:
    data = await collect(ctx, ctx.sender)
    document = {
        "matrix_id": ctx.sender,
        "genere_le": ctx.now().isoformat(timespec="seconds"),
        "donnees": data,
    }
    payload = json.dumps(document, ensure_ascii=False, indent=2, default=str).encode("utf-8")
    name = f"mes-donnees-{ctx.now():%Y-%m-%d}.json"
    held = [_label(ctx, n) for n, v in data.items() if _holds_something(v)]
    if held:
        parts = [
            ctx.rich("donnees.export.caption"),
            bullets(Rich.text(h) for h in held),
            ctx.rich("donnees.export.erase_hint"),
        ]
    else:  # the file is sent all the same: it is the proof, in the same form every time
        parts = [ctx.rich("donnees.export.nothing")]
    caption = Reply(rich=lines(parts))
    await ctx.send_file(ctx.sender, payload, name, "application/json", caption=caption)
    if ctx.is_direct:
        return []
    return Reply("donnees.export.sent_in_dm")


@command(
    "oublier-moi",
    aliases=["forget-me", "oubliermoi", "forgetme"],
    help="donnees.erase.help",
    role=Role.OUTSIDER,
)
async def forget_me(ctx: Context) -> Reply:
    """First step: say what will be erased and how to confirm."""
    data = await collect(ctx, ctx.sender)
    held = [_label(ctx, n) for n, v in data.items() if _holds_something(v)]
    if not held:
        return Reply("donnees.erase.nothing")
    return Reply(
        rich=lines(
            [
                ctx.rich("donnees.erase.warning"),
                bullets(Rich.text(h) for h in held),
                ctx.rich(
                    "donnees.erase.confirm_how",
                    command=code(ctx.prefix + ctx.t("donnees.erase.confirm_command")),
                ),
            ]
        )
    )


@forget_me.sub("confirmer", aliases=["confirm", "oui", "yes"], help="donnees.erase.confirm.help")
async def forget_me_confirmed(ctx: Context) -> Reply:
    erased: list[tuple[str, int]] = []
    for source in ctx.services.registry.personal_data:
        count = await source.erase(ctx.repos, ctx.sender)
        if count:
            erased.append((_label(ctx, source.name), count))
    ctx.services.remember_locale(ctx.sender, None)
    # The answer is in the language the member had; their setting itself is now gone.
    log.info("personal data erased on request: %d records", sum(n for _, n in erased))
    if not erased:
        return Reply("donnees.erase.nothing")
    return Reply(
        rich=lines(
            [
                ctx.rich("donnees.erase.done"),
                bullets(ctx.rich("donnees.erase.item", what=what, n=n) for what, n in erased),
                ctx.rich("donnees.erase.after"),
            ]
        )
    )
