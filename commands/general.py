"""General commands: help, language, liveness."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from bot.arguments import Rest
from bot.context import Context, Reply
from bot.errors import UserError
from bot.formatting import Rich, bold, bullets, code, heading, lines
from bot.parsing import message_text
from bot.registry import Command, command, personal_data
from bot.roles import Role
from bot.text import fold

if TYPE_CHECKING:
    from storage.unit import Repos


@command("ping", help="general.ping.help")
async def ping(ctx: Context) -> Reply:
    return Reply("general.ping.pong")


@command("langue", aliases=["language", "lang"], help="general.langue.help", role=Role.OUTSIDER)
async def language(ctx: Context, langue: Literal["fr", "en"] | None = None) -> Reply:
    if langue is None:
        return Reply("general.langue.current", language=ctx.t(f"general.langue.names.{ctx.locale}"))
    await ctx.repos.settings.set_language(ctx.sender, langue)
    ctx.services.remember_locale(ctx.sender, langue)
    ctx.locale = langue
    return Reply("general.langue.set", language=ctx.t(f"general.langue.names.{langue}"))


@command("aide", aliases=["help", "commandes", "commands"], help="general.aide.help", role=Role.OUTSIDER)
async def help_(ctx: Context, commande: Rest = "") -> Reply:
    if commande:
        return Reply(rich=_command_help(ctx, commande))
    return Reply(rich=_overview(ctx))


def _visible(ctx: Context, cmd: Command) -> bool:
    return not cmd.hidden and cmd.role <= ctx.role


def _line(ctx: Context, cmd: Command) -> Rich:
    return code(ctx.prefix + cmd.path) + " — " + ctx.rich(cmd.help_key)


def _overview(ctx: Context) -> Rich:
    registry = ctx.services.registry
    by_feature: dict[str, list[Command]] = {}
    for cmd in registry.unique_commands():
        if _visible(ctx, cmd):
            by_feature.setdefault(cmd.feature, []).append(cmd)
    order = ["general", *sorted(f for f in by_feature if f != "general")]
    parts: list[Rich] = [ctx.rich("general.aide.title", role=ctx.t(ctx.role.key))]
    for feature in order:
        cmds = by_feature.get(feature)
        if not cmds:
            continue
        key = f"features.{feature}"
        parts.append(heading(ctx.t(key) if ctx.tr.has(key) else feature))
        parts.append(bullets(_line(ctx, c) for c in sorted(cmds, key=lambda c: c.name)))
    parts.append(
        ctx.rich(
            "general.aide.more",
            example=code(
                f"{ctx.prefix}{ctx.t('commands.help_name')} {ctx.t('general.aide.example_command')}"
            ),
        )
    )
    return lines(parts)


def _command_help(ctx: Context, text: str) -> Rich:
    words = fold(text).lstrip("!/").split()
    registry = ctx.services.registry
    cmd = registry.find(words[0]) if words else None
    if cmd is None or not _visible(ctx, cmd):
        suggestion = registry.suggest(words[0], ctx.role) if words else None
        if suggestion:
            raise UserError("general.aide.unknown_suggest", command=code(ctx.prefix + suggestion))
        raise UserError("general.aide.unknown", command=text)
    sub = cmd.find_sub(words[1]) if len(words) > 1 else None
    if sub is not None and _visible(ctx, sub):
        cmd = sub
    parts: list[Rich] = [bold(ctx.prefix + cmd.path) + " — " + ctx.rich(cmd.help_key)]
    details_key = cmd.help_key.removesuffix(".help") + ".details"
    if ctx.tr.has(details_key):
        parts.append(ctx.rich(details_key))
    parts.append(ctx.rich("general.aide.usage", usage=code(cmd.usage(ctx.tr, ctx.prefix))))
    if cmd.aliases:
        parts.append(ctx.rich("general.aide.aliases", aliases=", ".join(ctx.prefix + a for a in cmd.aliases)))
    subs = [s for s in cmd.unique_subcommands() if _visible(ctx, s)]
    if subs:
        parts.append(ctx.rich("general.aide.subcommands"))
        parts.append(bullets(code(s.usage(ctx.tr, ctx.prefix)) + " — " + ctx.rich(s.help_key) for s in subs))
    examples = ctx.tr.list(cmd.examples_key)
    if examples:
        parts.append(ctx.rich("general.aide.examples_title"))
        parts.append(bullets(code(e) for e in examples))
    if cmd.role > 0:
        parts.append(ctx.rich("general.aide.role", role=ctx.t(cmd.role.key)))
    return lines(parts)


class RuntimeData:
    """The runtime's share of a member's personal data: their language, a conversation in
    progress, their direct chat with the bot, and the commands they sent that are not
    handled yet (a handled one keeps only its id, against handling it twice)."""

    name = "runtime"

    async def export(self, repos: Repos, user_id: str) -> dict[str, Any]:
        settings = await repos.settings.get(user_id)
        conversation = await repos.conversations.get(user_id)
        return {
            "langue": settings.language if settings else None,
            "conversation_en_cours": {
                "formulaire": conversation.form,
                "reponses": conversation.data,
                "commencee_le": conversation.started_at,
            }
            if conversation
            else None,
            "discussion_privee": await repos.direct.room_for(user_id),
            "messages_pas_encore_traites": [
                {
                    "evenement": e.event_id,
                    "salon": e.room_id,
                    "type": e.event_type,
                    "texte": message_text((e.payload or {}).get("content") or {}),
                    "recu_le": e.received_at,
                }
                for e in await repos.inbox.kept_for(user_id)
            ],
        }

    async def erase(self, repos: Repos, user_id: str) -> int:
        erased = await repos.settings.erase(user_id)
        erased += await repos.conversations.end(user_id)
        erased += await repos.inbox.erase_user(user_id)
        erased += await repos.outbox.erase_dm_user(user_id)
        erased += await repos.direct.forget_user(user_id)
        return erased


personal_data(RuntimeData())
