"""`!mes-donnees` and `!oublier-moi`: they walk every registered source (`bot/registry.py`
`PersonalDataSource`, declared in a feature's `personal_data`), so a new feature's data
is covered the day it declares its source."""

from __future__ import annotations

import json
import logging
from datetime import UTC, date, datetime, tzinfo
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
    """Every source's export for `user_id`, by source name. The command being answered
    is not data kept about them: its text is dropped first (it would be at its claim)."""
    if ctx.event_id:
        await ctx.repos.inbox.forget_content(ctx.event_id)
    return {
        source.name: await source.export(ctx.repos, user_id) for source in ctx.services.registry.personal_data
    }


def export_json(document: dict[str, Any], tz: tzinfo) -> bytes:
    """The export as a member reads it: every time in one zone (the network's), ISO 8601
    with its offset, to the second."""

    def plain(value: Any) -> Any:
        if isinstance(value, datetime):
            aware = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
            return aware.astimezone(tz).isoformat(timespec="seconds")
        if isinstance(value, date):
            return value.isoformat()
        return str(value)

    return json.dumps(document, ensure_ascii=False, indent=2, default=plain).encode("utf-8")


@command(
    "mes-donnees",
    aliases=["my-data", "mesdonnees", "mydata"],
    help="donnees.export.help",
    role=Role.OUTSIDER,
    feature="donnees",
)
async def my_data(ctx: Context) -> Reply | list[Reply]:
    data = await collect(ctx, ctx.sender)
    held = [_label(ctx, n) for n, v in data.items() if _holds_something(v)]
    if not held:
        return Reply("donnees.export.nothing")  # nothing to send: no empty file either
    document = {
        "identifiant_matrix": ctx.sender,
        "genere_le": ctx.now(),
        "fuseau_horaire": ctx.config.bot.timezone,
        "donnees": data,
    }
    payload = export_json(document, ctx.config.tz)
    name = f"mes-donnees-{ctx.now().astimezone(ctx.config.tz):%Y-%m-%d}.json"
    caption = Reply(
        rich=lines(
            [
                ctx.rich("donnees.export.caption"),
                bullets(Rich.text(h) for h in held),
                ctx.rich("donnees.export.erase_hint"),
            ]
        )
    )
    await ctx.send_file(ctx.sender, payload, name, "application/json", caption=caption)
    if ctx.is_direct:
        return []
    return Reply("donnees.export.sent_in_dm")


@command(
    "oublier-moi",
    aliases=["forget-me", "oubliermoi", "forgetme"],
    help="donnees.erase.help",
    role=Role.OUTSIDER,
    feature="donnees",
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
    ctx.services.forget_member(ctx.sender)  # what the app holds in memory too
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
