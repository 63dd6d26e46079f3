"""`!aide`'s texts: the overview of the commands a person may use, grouped by feature, and
one command's help (usage, aliases, subcommands, examples), all from the registry."""

from __future__ import annotations

from bot.context import Context
from bot.errors import UserError
from bot.formatting import Rich, bold, bullets, code, heading, lines
from bot.registry import Command
from bot.text import fold


def _visible(ctx: Context, cmd: Command) -> bool:
    return not cmd.hidden and cmd.role <= ctx.role


def _line(ctx: Context, cmd: Command) -> Rich:
    return code(ctx.prefix + cmd.path) + " — " + ctx.rich(cmd.help_key)


def overview(ctx: Context) -> Rich:
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


def command_help(ctx: Context, text: str) -> Rich:
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
