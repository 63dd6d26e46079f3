"""General commands: help, language, liveness."""

from __future__ import annotations

from typing import Literal

from bot.arguments import Rest
from bot.context import Context, Reply
from bot.registry import command
from bot.roles import Role
from commands.general.render import command_help, overview


@command("ping", help="general.ping.help", feature="general")
async def ping(ctx: Context) -> Reply:
    return Reply("general.ping.pong")


@command(
    "langue", aliases=["language", "lang"], help="general.langue.help", role=Role.OUTSIDER, feature="general"
)
async def language(ctx: Context, langue: Literal["fr", "en"] | None = None) -> Reply:
    if langue is None:
        return Reply("general.langue.current", language=ctx.t(f"general.langue.names.{ctx.locale}"))
    await ctx.repos.settings.set_language(ctx.sender, langue)
    ctx.services.remember_locale(ctx.sender, langue)
    ctx.locale = langue
    return Reply("general.langue.set", language=ctx.t(f"general.langue.names.{langue}"))


@command(
    "aide",
    aliases=["help", "commandes", "commands"],
    help="general.aide.help",
    role=Role.OUTSIDER,
    feature="general",
)
async def help_(ctx: Context, commande: Rest = "") -> Reply:
    if commande:
        return Reply(rich=command_help(ctx, commande))
    return Reply(rich=overview(ctx))
